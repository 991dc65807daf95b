"""The Open Inference Protocol's health, readiness, metadata and model configuration routes.

Server readiness is the service's one definition (service.core.registry.Readiness), as for
/health/ready; the rest is the protocol's codec (service.protocols.v2), shared with gRPC.
Errors are the protocol's `{"error": "..."}`.
"""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.api.deps import DrainingDep, RegistryDep
from service.api.kserve.infer import V2Route
from service.api.kserve.schemas import (
    V2Error,
    V2Live,
    V2ModelConfig,
    V2ModelMetadata,
    V2ModelReady,
    V2Ready,
    V2ServerMetadata,
)
from service.core.errors import ModelNotFound, VersionNotFound
from service.core.registry import Registry
from service.protocols import v2

router = APIRouter(prefix="/v2", tags=["kserve"], route_class=V2Route)
_MODEL_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": V2Error, "description": "A version that is not a whole number"},
    404: {"model": V2Error, "description": "No such model or version"},
    503: {"model": V2ModelReady, "description": "Known, but not loaded"},
}


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
async def version_ready(name: str, version: str, registry: RegistryDep) -> JSONResponse:
    """This version is the one being served (503 for another version on disk)."""
    return _ready(registry, name, version)


@router.get("", response_model=V2ServerMetadata)
async def server_metadata() -> Any:
    """Name, version and the protocol extensions this server speaks."""
    return v2.server_metadata()


@router.get("/models/{name}", response_model=V2ModelMetadata, responses=_MODEL_ERRORS)
async def model_metadata(name: str, registry: RegistryDep) -> Any:
    """Name, the version served, and the input and output tensors."""
    return v2.model_metadata(registry, name, None)


@router.get(
    "/models/{name}/versions/{version}", response_model=V2ModelMetadata, responses=_MODEL_ERRORS
)
async def version_metadata(name: str, version: str, registry: RegistryDep) -> Any:
    """The same, 404 unless `version` is the one being served."""
    return v2.model_metadata(registry, name, version)


@router.get("/models/{name}/config", response_model=V2ModelConfig, responses=_MODEL_ERRORS)
async def model_config(name: str, registry: RegistryDep) -> Any:
    """The model configuration, in Triton's fields (what tritonclient's get_model_config reads)."""
    return v2.model_config(registry, name, None)


@router.get(
    "/models/{name}/versions/{version}/config",
    response_model=V2ModelConfig,
    responses=_MODEL_ERRORS,
)
async def version_config(name: str, version: str, registry: RegistryDep) -> Any:
    """The same, 404 unless `version` is the one being served."""
    return v2.model_config(registry, name, version)


def _ready(registry: Registry, name: str, version: str | None) -> JSONResponse:
    found = v2.model_ready(registry, name, version)
    if found == v2.NOT_FOUND:  # the 404 of a model or version that is not there
        wanted = v2.version_of(version)
        if wanted is not None and registry.known(name):
            raise VersionNotFound(name, wanted)
        raise ModelNotFound(name)
    return JSONResponse({"name": name, "ready": found == v2.READY}, _READY_STATUS[found])


_READY_STATUS = {v2.READY: 200, v2.NOT_READY: 503}  # NOT_FOUND: raised as its 404 above
