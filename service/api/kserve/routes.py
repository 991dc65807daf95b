"""The Open Inference Protocol's health, model readiness and model metadata routes.

Server readiness is the service's one definition (service.core.registry.Readiness), as for
/health/ready. Errors are the protocol's `{"error": "..."}`.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import DrainingDep, RegistryDep
from service.api.errors import short
from service.api.kserve.infer import WARNINGS
from service.api.kserve.schemas import (
    V2Error,
    V2Live,
    V2ModelMetadata,
    V2ModelReady,
    V2Ready,
    V2ServerMetadata,
    V2Tensor,
)
from service.core.errors import ServiceError, VersionNotFound
from service.core.registry import Registry

router = APIRouter(prefix="/v2", tags=["kserve"])
SERVER = "lstm-service"
EXTENSIONS = ["binary_tensor_data"]  # service.api.kserve.tensors
_MODEL_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": V2Error, "description": "No such model or version"},
    503: {"model": V2ModelReady, "description": "Known, but not loaded"},
}


def render(exc: ServiceError) -> JSONResponse:
    """The protocol's error answer."""
    return JSONResponse({"error": exc.message}, exc.status)


@router.get("/health/live", response_model=V2Live)
async def live() -> V2Live:
    """The process is up."""
    return V2Live(live=True)


@router.get(
    "/health/ready",
    response_model=V2Ready,
    responses={503: {"model": V2Ready, "description": "Not ready"}},
)
async def ready(registry: RegistryDep, draining: DrainingDep) -> JSONResponse:
    """Every model found is loaded and warmed up, and no shutdown has begun."""
    ok = registry.readiness(draining).ready
    return JSONResponse({"ready": ok}, 200 if ok else 503)


@router.get("/models/{name}/ready", response_model=V2ModelReady, responses=_MODEL_ERRORS)
async def model_ready(name: str, registry: RegistryDep) -> JSONResponse:
    """The model is loaded and serving."""
    return _ready(registry, name, None)


@router.get(
    "/models/{name}/versions/{version}/ready",
    response_model=V2ModelReady,
    responses=_MODEL_ERRORS,
)
async def version_ready(name: str, version: int, registry: RegistryDep) -> JSONResponse:
    """This version is the one being served."""
    return _ready(registry, name, version)


@router.get("", response_model=V2ServerMetadata)
async def server_metadata(request: Request) -> V2ServerMetadata:
    """Name, version and the protocol extensions this server speaks."""
    return V2ServerMetadata(name=SERVER, version=request.app.version, extensions=EXTENSIONS)


@router.get("/models/{name}", response_model=V2ModelMetadata, responses=_MODEL_ERRORS)
async def model_metadata(name: str, registry: RegistryDep) -> Any:
    """Name, versions, and the input and output tensors of the served version."""
    return _metadata(registry, name, None)


@router.get(
    "/models/{name}/versions/{version}", response_model=V2ModelMetadata, responses=_MODEL_ERRORS
)
async def version_metadata(name: str, version: str, registry: RegistryDep) -> Any:
    """The same, 404 unless `version` is the one being served."""
    return _metadata(registry, name, version)


def _metadata(registry: Registry, name: str, version: str | None) -> Any:
    try:
        if version is not None and not version.isdigit():
            raise VersionNotFound(name, short(version))  # type: ignore[arg-type]
        model = registry.model(name, None if version is None else int(version))
    except ServiceError as exc:
        return render(exc)
    spec = model.spec
    outputs = [
        V2Tensor(name=n, shape=[-1 if d is None else d for d in t.shape])
        for n, t in spec.outputs.items()
    ]
    return V2ModelMetadata(
        name=name,
        versions=[str(s.version) for s in registry.versions(name)],
        inputs=[V2Tensor(name=spec.input_name, shape=[-1, *spec.input_shape])],
        outputs=[*outputs, V2Tensor(name=WARNINGS, datatype="BYTES", shape=[-1])],
    )


def _ready(registry: Registry, name: str, version: int | None) -> JSONResponse:
    if not registry.known(name):
        return JSONResponse({"error": f"model '{name}' not found"}, 404)
    listed = {s.version for s in registry.versions(name)}
    if version is not None and version not in listed:
        return JSONResponse({"error": f"model '{name}' has no version {version}"}, 404)
    served = registry.models.get(name)
    ok = served is not None and version in (None, served.version)
    return JSONResponse({"name": name, "ready": ok}, 200 if ok else 503)
