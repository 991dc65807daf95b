"""The ceiling: the shipped app and request models, inference replaced by a constant answer.

The constant models are handed out through `app.dependency_overrides[get_registry]`, the
same dependency the routes use, and they answer in the caller's task (no thread, no
queue), so what is left is HTTP, JSON, validation and the response building.
Run: `uvicorn bench.ceiling:app`.
"""

import json
import os
from pathlib import Path

import numpy as np

from service.main import create_app
from service.registry import LoadedModel, Registry, get_registry

MODELS_DIR = Path(os.environ.get("MODELS_DIR", "models"))


class Immediate:
    """Stands where the micro-batcher stands: calls the (constant) model right away."""

    async def submit(self, model: LoadedModel, batch: np.ndarray) -> np.ndarray:
        return model(batch)


def constant_model(version_dir: Path) -> LoadedModel:
    """The model's metadata with a serving function that returns ones of the output shape."""
    metadata = json.loads((version_dir / "metadata.json").read_text())
    row_shape = tuple(metadata["output"]["shape"][1:])  # e.g. (1,), (20, 1), (20, 2)
    ones = np.ones((256, *row_shape), dtype=np.float32)  # up to MAX_WINDOWS rows

    def serve(batch: np.ndarray) -> np.ndarray:
        return ones[: len(batch)]

    return LoadedModel(metadata["name"], int(version_dir.name), metadata, serve, Immediate())


def constant_registry(models_dir: Path = MODELS_DIR) -> Registry:
    newest = {
        d.name: max((v for v in d.iterdir() if v.name.isdigit()), key=lambda v: int(v.name))
        for d in sorted(models_dir.iterdir())
        if d.is_dir()
    }
    return Registry({name: constant_model(path) for name, path in newest.items()})


_registry = constant_registry()
app = create_app()
app.dependency_overrides[get_registry] = lambda: _registry
