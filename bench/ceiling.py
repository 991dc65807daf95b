"""The ceiling: the shipped app, every layer as shipped, with each model's graph replaced by a
constant answer of its output shapes (no drift, so no warnings).

The constants come through the app's loader seam (`create_app(load=...)`), so the request goes
through the gate, the routes, the input rules, the batcher's worker thread and the answer path;
only TensorFlow is gone. Run: `uvicorn bench.ceiling:app`.
"""

from pathlib import Path

import numpy as np

import artifact
from service.main import create_app


def constant_load(path: Path):
    """(spec, serve) of a version directory, `serve` returning ones (prediction, bounds) and
    zeros (drift) of the signature's shapes, for up to 256 windows."""
    spec = artifact.read(path)
    full = {
        name: np.full((256, *tensor.shape[1:]), 0.0 if "drift" in (tensor.role or "") else 1.0,
                      dtype=np.float32)
        for name, tensor in spec.outputs.items()
    }  # fmt: skip

    def serve(batch: np.ndarray) -> dict[str, np.ndarray]:
        return {name: values[: len(batch)] for name, values in full.items()}

    return spec, serve


app = create_app(load=constant_load)
