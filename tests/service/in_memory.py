"""Stand-in graphs for route and batching tests: real metadata, outputs the test chooses."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

import artifact
from artifact.metadata import Metadata, Spec
from service.core.registry import Loader
from service.core.repository import Repository
from service.main import create_app
from service.settings import Settings

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


def stand_in(graph: Callable[[Spec], Serve]) -> Loader:
    """A loader (`create_app(load=...)`): each version's real metadata, `graph(spec)` as its
    SavedModel, so the request path is the service's own from the gate to the answer."""

    def load(path: Path) -> tuple[Spec, Serve]:
        spec = artifact.read(path)
        return spec, graph(spec)

    return load


def constant(value: float) -> Callable[[Spec], Serve]:
    """A graph predicting `value` everywhere (see `outputs`)."""
    return lambda spec: lambda batch: outputs(spec, batch, value)


def client_with(
    models_dir: Path, graph: Callable[[Spec], Serve], raise_server_exceptions=True, **settings
) -> TestClient:
    """A TestClient of an app serving `models_dir` with stand-in graphs; enter it with `with`."""
    app = create_app(Settings(models_dir=models_dir, reload_interval_s=0, **settings),
                     load=stand_in(graph))  # fmt: skip
    return TestClient(app, raise_server_exceptions=raise_server_exceptions)
