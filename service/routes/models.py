"""Health probes and model metadata."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.errors import responses
from service.registry import RegistryDep
from service.schemas import LiveResponse, ModelsResponse, ModelSummary, ReadyResponse

router = APIRouter()


@router.get("/health/live", response_model=LiveResponse, tags=["health"])
async def live() -> LiveResponse:
    """200 while the process is up."""
    return LiveResponse()


@router.get(
    "/health/ready",
    response_model=ReadyResponse,
    tags=["health"],
    responses={503: {"model": ReadyResponse, "description": "Not ready"}},
)
async def ready(registry: RegistryDep) -> Any:
    """200 once the models are loaded and warmed up, else 503."""
    body = ReadyResponse(
        ready=registry.ready,
        models={name: model.version for name, model in registry.models.items()},
        failed=sorted(registry.failed),
        reload_errors=dict(registry.reload_errors),
    )
    return body if body.ready else JSONResponse(body.model_dump(), status_code=503)


@router.get("/models", response_model=ModelsResponse, tags=["models"])
async def list_models(registry: RegistryDep) -> ModelsResponse:
    """Every loaded model: version, task, window, features and test metrics."""
    models = registry.models.items()
    return ModelsResponse(
        models=[ModelSummary(name=n, version=m.version, **summary(m.metadata)) for n, m in models]
    )


@router.get("/models/{name}", tags=["models"], responses=responses(404, 503))
async def model_metadata(name: str, registry: RegistryDep) -> dict[str, Any]:
    """The full metadata.json of a loaded model."""
    return registry.metadata(name)


def summary(metadata: dict[str, Any]) -> dict[str, Any]:
    """The model-card fields of a metadata.json that GET /models lists."""
    return {
        "task": metadata.get("task"),
        "window": metadata["input"]["window"],
        "features": metadata["input"]["features"],
        "metrics": metadata.get("metrics", {}).get("test", {}),
    }
