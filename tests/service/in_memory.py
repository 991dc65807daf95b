"""Registries built in memory for route and batching tests: a real spec, a stand-in graph."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
from fastapi import FastAPI

from service.api.deps import get_registry
from service.core import artifact
from service.core.artifact import Metadata, Spec
from service.core.registry import BatchOptions, Registry
from service.core.repository import Repository

Serve = Callable[[np.ndarray], dict[str, np.ndarray]]


def spec_of(models_dir: Path, name: str) -> Spec:
    """The checked metadata of the newest complete version of `name` under `models_dir`."""
    repository = Repository(models_dir)
    return artifact.read(repository.path(name, repository.listing()[name][0]))


def spec_for(features: list[str], window: int, rules: dict | None = None) -> Spec:
    """A format-2 spec of `features` and `window` with one prediction output, no interval."""
    shape = [None, window, len(features)]
    raw = {
        "format": 2, "name": "m", "task": "regression",
        "input": {"features": features, "window": window, "rules": rules or {}},
        "signature": {"inputs": {"window": {"shape": shape}}, "outputs": {
            "y": {"shape": [None, 1], "role": "prediction"},
            "drift_value": {"shape": shape, "role": "drift_value"},
            "drift_score": {"shape": shape, "role": "drift_score"}}},
        "drift": {"measure": "z_score", "threshold": 6.0},
    }  # fmt: skip
    return Spec(Metadata.model_validate(raw), raw)


def outputs(spec: Spec, batch: np.ndarray, value: float) -> dict[str, np.ndarray]:
    """Named outputs of the spec's shapes: every prediction `value`, no interval width, no drift."""
    found = {}
    for name, tensor in spec.outputs.items():
        shape = (len(batch), *tensor.shape[1:])
        found[name] = np.full(shape, value if tensor.role == "prediction" else 0.0, np.float32)
    return found


def registry_of(
    models_dir: Path,
    name: str,
    serve: Serve,
    version: int = 1,
    batching: BatchOptions | None = None,
) -> Registry:
    """A registry over `models_dir` serving `name` at `version` with `serve` as its graph."""
    spec = spec_of(models_dir, name)
    registry = Registry(
        Repository(models_dir), lambda path: (spec, serve), batching or BatchOptions()
    )
    registry.refresh()
    registry.install(registry.load_version(name, version))
    return registry


def use(app: FastAPI, registry: Registry) -> None:
    """Serve `registry` instead of the one the lifespan loads (overrides are `async def`)."""

    async def override() -> Registry:
        return registry

    app.dependency_overrides[get_registry] = override
