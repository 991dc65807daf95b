"""Model cards: a served model's versions, data, statistics, metrics and charts, from metadata."""

from enum import StrEnum
from pathlib import Path

from service import drift, versions
from service.registry import Registry
from service.schemas import ModelCard, VersionInfo


class ChartKind(StrEnum):
    """The PNG charts training writes beside an export; the file name is `<kind>.png`."""

    predictions = "predictions"
    loss = "loss"


def chart_path(registry: Registry, name: str, kind: ChartKind) -> Path | None:
    """The chart file of the serving version, or None if it is not there."""
    registry.metadata(name)  # 404 unknown, 503 known but not loaded
    model = registry.get(name)
    if registry.models_dir is None:
        return None
    path = registry.models_dir / name / str(model.version) / f"{kind.value}.png"
    return path if path.is_file() else None


def card(registry: Registry, name: str) -> ModelCard:
    """The card of the served version of `name` (404 unknown, 503 known but not loaded)."""
    meta = registry.metadata(name)
    model = registry.get(name)
    rule = drift.rule(meta)
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
            for s in versions.states(registry, name)
        ],
        input=meta["input"],
        output=meta.get("output", {}),
        data=meta.get("data", {}),
        bounds=meta.get("bounds", {}),
        statistics=meta.get("statistics", {}),
        metrics=meta.get("metrics", {}),
        interval=meta.get("interval"),
        drift={
            "measure": rule.measure,
            "threshold": rule.threshold,
            "stored_with_model": "drift" in meta,
        },
        training=meta.get("training", {}),
        libraries=meta.get("libraries", {}),
        config=meta.get("config", {}),
        charts={
            kind.value: f"/models/{name}/plot.png?kind={kind.value}"
            for kind in ChartKind
            if chart_path(registry, name, kind)
        },
    )
