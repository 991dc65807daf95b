"""Find, load and warm up the newest version of every model under the models directory."""

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, Request

from service import inference
from service.errors import ModelNotFound, ModelUnavailable, NotReady

log = logging.getLogger(__name__)

KNOWN_MODELS = ("stock", "sine", "classify")


class NoModelsError(RuntimeError):
    """Not one model could be loaded: the service refuses to start."""


@dataclass(frozen=True)
class LoadedModel:
    """One SavedModel version, its metadata and its serving function."""

    name: str
    version: int
    metadata: dict[str, Any]
    serve: Callable[[np.ndarray], np.ndarray]
    # the name's micro-batcher (service.batching.Batcher), attached by Registry.get
    batcher: Any = field(default=None, repr=False, compare=False)

    @property
    def window(self) -> int:
        return int(self.metadata["input"]["window"])

    @property
    def features(self) -> list[str]:
        return list(self.metadata["input"]["features"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Run one batch `(batch, window, features)` through the graph."""
        return self.serve(batch)


@dataclass
class Registry:
    """The models being served, by name, and the ones that failed to load."""

    models: dict[str, LoadedModel] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    models_dir: Path | None = None  # where versions are looked up (model cards, version states)
    # name -> why its newest version was rejected by a hot reload (the older one still serves)
    reload_errors: dict[str, str] = field(default_factory=dict)
    # name -> its micro-batcher; kept per name, so swapping a version in `models` keeps it
    batchers: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> LoadedModel:
        """The model serving `name`, with its name's batcher, or 503 if it is not loaded."""
        if name not in self.models:
            raise ModelUnavailable(name)
        model, batcher = self.models[name], self.batchers.get(name)
        return model if batcher is None else replace(model, batcher=batcher)

    def metadata(self, name: str) -> dict[str, Any]:
        """Full metadata of a loaded model; 404 for unknown names, 503 for absent known ones."""
        if name not in self.models and name not in KNOWN_MODELS:
            raise ModelNotFound(name)
        return self.get(name).metadata

    @property
    def ready(self) -> bool:
        return bool(self.models)


def candidate_versions(model_dir: Path) -> list[Path]:
    """Integer version directories holding saved_model.pb and metadata.json, newest first."""
    found = [
        p
        for p in model_dir.iterdir()
        if p.is_dir() and p.name.isdigit() and int(p.name) > 0
        if (p / "saved_model.pb").is_file() and (p / "metadata.json").is_file()
    ]
    return sorted(found, key=lambda p: int(p.name), reverse=True)


def load_version(path: Path, options: inference.Options = inference.DEFAULTS) -> LoadedModel:
    """Load one version directory and warm it up (every XLA bucket, if XLA is on)."""
    import tensorflow as tf  # heavy: imported when loading, never at service import

    metadata = json.loads((path / "metadata.json").read_text())
    window, n_features = int(metadata["input"]["window"]), len(metadata["input"]["features"])
    loaded = tf.saved_model.load(str(path))
    serve = inference.ServingFunction(loaded, window, n_features, options)  # warms up
    return LoadedModel(path.parent.name, int(path.name), metadata, serve)


def load_newest(model_dir: Path, options: inference.Options = inference.DEFAULTS) -> LoadedModel:
    """Newest version that loads; a broken version is logged and the next older one tried."""
    reasons = []
    for path in candidate_versions(model_dir):
        try:
            return load_version(path, options)
        except Exception as exc:  # any failure of one directory must not stop the others
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            log.error("skipping model directory %s: %s", path, reason)
            reasons.append(f"version {path.name}: {reason}")
    missing = "no integer version directory holding saved_model.pb and metadata.json"
    raise LookupError("; ".join(reasons) or missing)


def model_dirs(models_dir: Path) -> list[Path]:
    """The `<name>/` directories under the models directory (none if it does not exist)."""
    if not models_dir.is_dir():
        log.error("models directory %s: does not exist or is not a directory", models_dir)
        return []
    return sorted(p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_registry(models_dir: Path, options: inference.Options = inference.DEFAULTS) -> Registry:
    """Load every model under `models_dir`; raise NoModelsError if none loads."""
    registry = Registry(models_dir=models_dir)
    for model_dir in model_dirs(models_dir):
        start = time.perf_counter()
        try:
            model = load_newest(model_dir, options)
        except LookupError as exc:
            log.error("model %s not loaded from %s: %s", model_dir.name, model_dir, exc)
            registry.failed[model_dir.name] = str(exc)
            continue
        registry.models[model.name] = model
        seconds = time.perf_counter() - start
        log.info("loaded %s version %d in %.2f s", model.name, model.version, seconds)
    if not registry.models:
        raise NoModelsError(f"no loadable model under {models_dir.resolve()}")
    return registry


def get_registry(request: Request) -> Registry:
    """The registry the lifespan loaded (override with `app.dependency_overrides`)."""
    registry = getattr(request.state, "registry", None)
    if registry is None:
        raise NotReady()
    return registry


RegistryDep = Annotated[Registry, Depends(get_registry)]
