"""KServe's Open Inference Protocol (v2): health, model readiness and model metadata."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service import versions
from service.errors import ModelNotFound, ModelUnavailable
from service.registry import Registry

router = APIRouter(prefix="/v2", tags=["kserve"])


class V2Live(BaseModel):
    live: bool


class V2Ready(BaseModel):
    ready: bool


class V2ModelReady(BaseModel):
    name: str
    ready: bool


class V2Tensor(BaseModel):
    name: str
    datatype: str = "FP32"
    shape: list[int] = Field(description="-1: any size")


class V2ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str = "tensorflow_savedmodel"
    inputs: list[V2Tensor]
    outputs: list[V2Tensor]


class V2Error(BaseModel):
    error: str


def _registry(request: Request) -> Registry | None:
    """The registry, or None while starting: these probes answer rather than raise."""
    return getattr(request.state, "registry", None)


def _answer(body: BaseModel, ok: bool) -> JSONResponse:
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


_NOT_READY = {"description": "Not ready"}
_MODEL_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": V2Error, "description": "No such model or version"},
    503: {"model": V2ModelReady, "description": "Known, but not loaded"},
}


@router.get("/health/live", response_model=V2Live)
async def live() -> V2Live:
    """The process is up."""
    return V2Live(live=True)


@router.get(
    "/health/ready", response_model=V2Ready, responses={503: {"model": V2Ready, **_NOT_READY}}
)
async def ready(request: Request) -> JSONResponse:
    """Every model found was loaded and warmed up (strict readiness, as Triton's)."""
    registry = _registry(request)
    ok = bool(registry and registry.ready and not registry.failed)
    return _answer(V2Ready(ready=ok), ok)


def _dims(shape: list[int | None]) -> list[int]:
    return [-1 if d is None else int(d) for d in shape]


def model_ready(request: Request, name: str, version: int | None) -> JSONResponse:
    registry = _registry(request)
    if registry is None:
        return _answer(V2ModelReady(name=name, ready=False), False)
    try:
        found = versions.states(registry, name)
    except ModelNotFound as exc:
        return JSONResponse({"error": str(exc)}, 404)
    if version is not None and version not in [s.version for s in found]:
        return JSONResponse({"error": f"model '{name}' has no version {version}"}, 404)
    served = registry.models.get(name)
    ok = served is not None and version in (None, served.version)
    return _answer(V2ModelReady(name=name, ready=ok), ok)


@router.get("/models/{name}/ready", response_model=V2ModelReady, responses=_MODEL_ERRORS)
async def ready_model(name: str, request: Request) -> JSONResponse:
    """The model is loaded and serving."""
    return model_ready(request, name, None)


@router.get(
    "/models/{name}/versions/{version}/ready", response_model=V2ModelReady, responses=_MODEL_ERRORS
)
async def ready_version(name: str, version: int, request: Request) -> JSONResponse:
    """This version is the one being served."""
    return model_ready(request, name, version)


@router.get("/models/{name}", response_model=V2ModelMetadata, responses=_MODEL_ERRORS)
async def model_metadata(name: str, request: Request) -> Any:
    """Name, versions, and the input and output tensors of the served version."""
    registry = _registry(request)
    if registry is None:
        raise ModelUnavailable(name)
    meta = registry.metadata(name)
    return V2ModelMetadata(
        name=name,
        versions=[str(s.version) for s in versions.states(registry, name)],
        inputs=[V2Tensor(name="window", shape=_dims(meta["input"]["shape"]))],
        outputs=[V2Tensor(name="output_0", shape=_dims(meta["output"]["shape"]))],
    )
