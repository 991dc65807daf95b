"""Health, model listing, model cards and charts, and /metrics, of the native API.

Readiness has one definition (service.core.registry.Readiness): not shutting down, and every
model found on disk has a version serving. The native and v2 probes and the Kubernetes
readiness probe (deploy/deployment.yaml, /health/ready) all read it. Strict, as Triton's:
a release whose model does not load never takes traffic, and the old pods keep serving.
"""

from enum import StrEnum
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from service.api.deps import DrainingDep, RegistryDep
from service.api.errors import responses
from service.api.native.predict import SERVED, served
from service.core import metrics
from service.core.registry import Registry

router = APIRouter()


class ChartKind(StrEnum):
    """The PNG charts training writes beside an export; the file name is `<kind>.png`."""

    predictions = "predictions"
    loss = "loss"


class LiveResponse(BaseModel):
    status: str = "alive"


class ReadyResponse(BaseModel):
    ready: bool
    models: dict[str, int] = Field(description="Loaded and warmed models and their versions")
    failed: list[str] = Field(description="Models found on disk that could not be loaded")
    reload_errors: dict[str, str] = Field(
        default_factory=dict,
        description="Model -> why its newest version was rejected (the older version serves)",
    )
    draining: bool = Field(False, description="Shutting down: no new traffic, please")


class ModelSummary(BaseModel):
    name: str
    version: int
    task: str | None
    window: int
    features: list[str]
    metrics: dict[str, Any] = Field(description="Test metrics, with the naive baseline")


class ModelsResponse(BaseModel):
    models: list[ModelSummary]


class VersionInfo(BaseModel):
    version: int
    state: Literal["AVAILABLE", "START", "END"] = Field(
        description="AVAILABLE: serving; START: on disk, not loaded (yet); END: superseded or "
        "rejected"
    )
    serving: bool
    error: str = Field("", description="Why the version is not served, if it failed to load")


class ModelCard(BaseModel):
    """What the served model is, what it was trained on, how well it does: GET /models/{name}."""

    name: str
    version: int = Field(description="The version being served")
    task: str | None
    description: str | None
    created_at: str | None
    versions: list[VersionInfo] = Field(description="Every version directory found, newest first")
    input: dict[str, Any] = Field(description="features (in order), window, shape, dtype")
    output: dict[str, Any]
    data: dict[str, Any] = Field(description="Source, sha256 and the chronological splits")
    bounds: dict[str, Any] = Field(description="Raw range of each input feature in training")
    statistics: dict[str, Any] = Field(description="Statistics of the model inputs, training split")
    metrics: dict[str, Any] = Field(description="Validation and test metrics, with baselines")
    interval: dict[str, Any] | None = Field(
        description="Residual quantiles and their coverage measured on the test split"
    )
    drift: dict[str, Any] = Field(description="How requests are checked for out-of-range inputs")
    training: dict[str, Any] = Field(description="Seconds, epochs, best epoch, loss history")
    libraries: dict[str, Any]
    config: dict[str, Any] = Field(description="The resolved training config")
    charts: dict[str, str] = Field(description="Chart kind -> URL of its PNG, where present")


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
async def ready(registry: RegistryDep, draining: DrainingDep) -> Any:
    """200 when every model found is loaded and warmed up and no shutdown has begun, else 503."""
    state = registry.readiness(draining)
    body = ReadyResponse(
        ready=state.ready,
        models=state.models,
        failed=sorted(state.failed),
        reload_errors=state.rejected,
        draining=state.draining,
    )
    return body if body.ready else JSONResponse(body.model_dump(), status_code=503)


@router.get("/models", response_model=ModelsResponse, tags=["models"])
async def list_models(registry: RegistryDep) -> ModelsResponse:
    """Every loaded model: version, task, window, features and test metrics."""
    return ModelsResponse(
        models=[
            ModelSummary(
                name=name,
                version=m.version,
                task=m.spec.task,
                window=m.spec.window,
                features=list(m.spec.features),
                metrics=m.metadata.get("metrics", {}).get("test", {}),
            )
            for name, m in sorted(registry.models.items())
        ]
    )


@router.get(
    "/models/{name}",
    response_model=ModelCard,
    tags=["models"],
    responses=responses(404, 503),
)
async def model_card(name: str, registry: RegistryDep) -> ModelCard:
    """The model card: versions, data, features, window, statistics, metrics, interval coverage,
    training time, library versions and chart links, from the serving version's metadata."""
    model = served(registry, name) if name in SERVED else registry.model(name)
    meta = model.metadata
    return ModelCard(
        name=name,
        version=model.version,
        task=meta.get("task"),
        description=meta.get("description"),
        created_at=meta.get("created_at"),
        versions=[
            VersionInfo(
                version=s.version, state=s.state, serving=s.state == "AVAILABLE", error=s.error
            )
            for s in registry.versions(name)
        ],
        input=meta["input"],
        output=meta.get("output", {}),
        data=meta.get("data", {}),
        bounds=meta.get("bounds", {}),
        statistics=meta.get("statistics", {}),
        metrics=meta.get("metrics", {}),
        interval=meta.get("interval"),
        drift={**meta["drift"], "stored_with_model": True},
        training=meta.get("training", {}),
        libraries=meta.get("libraries", {}),
        config=meta.get("config", {}),
        charts={
            k.value: f"/models/{name}/plot.png?kind={k.value}"
            for k in ChartKind
            if _chart(registry, name, k) is not None
        },
    )


@router.get(
    "/models/{name}/plot.png",
    response_class=FileResponse,
    tags=["models"],
    responses={200: {"content": {"image/png": {}}, "description": "The chart"}}
    | responses(404, 422, 503),
)
async def model_chart(
    name: str, registry: RegistryDep, kind: ChartKind = ChartKind.predictions
) -> FileResponse:
    """A chart of the serving version (404 if its export has none): `kind` picks the file."""
    path = _chart(registry, name, kind)
    if path is None:
        raise HTTPException(404, f"No {kind.value} chart for model '{name}'")
    return FileResponse(path, media_type="image/png")


def _chart(registry: Registry, name: str, kind: ChartKind) -> Any:
    model = served(registry, name) if name in SERVED else registry.model(name)
    path = registry.repository.path(name, model.version) / f"{kind.value}.png"
    return path if path.is_file() else None


# Scraped by Prometheus, not part of the JSON API: kept out of the OpenAPI schema.
@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    """Every metric in the Prometheus text format."""
    body, content_type = metrics.scrape(request.scope["state"]["metrics"])
    return Response(body, media_type=content_type)
