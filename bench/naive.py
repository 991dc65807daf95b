"""The naive baseline: FastAPI and `model.predict` per request, as most tutorials serve Keras.

The Keras model is rebuilt from the same SavedModel: `keras.layers.TFSMLayer` wraps the
export's `serve` endpoint in a `keras.Sequential` with the metadata's input shape, so
`predict` runs the identical graph. Handlers are plain `def` (FastAPI runs them in its
thread pool), requests are validated by the service's own request models, and windows are
built by the service's own input rules. Run: `uvicorn bench.naive:app`.
"""

import os
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request

import artifact
from service.api.native.schemas import ClassifyRequest, SineRequest, StockRequest
from service.core import inputs
from service.protocols.native import table

MODELS_DIR = Path(os.environ.get("MODELS_DIR", "models"))


def load_keras(name: str):
    """(keras model, spec) of the newest version of `name`."""
    import keras

    model_dir = MODELS_DIR / name
    path = max((v for v in model_dir.iterdir() if v.name.isdigit()), key=lambda v: int(v.name))
    spec = artifact.read(path)
    model = keras.Sequential(
        [keras.Input(shape=spec.input_shape), keras.layers.TFSMLayer(str(path), "serve")]
    )
    return model, spec


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield {"models": {name: load_keras(name) for name in ("stock", "sine", "classify")}}


app = FastAPI(lifespan=lifespan)


def predict(model, spec, batch: np.ndarray) -> np.ndarray:
    return model.predict(batch, verbose=0)[spec.prediction]


@app.post("/predict/stock")
def predict_stock(body: StockRequest, request: Request) -> dict:
    model, spec = request.state.models["stock"]
    batch = inputs.stock_table(spec, table(body.rows, spec.features))
    predictions = predict(model, spec, batch)[:, 0].tolist()
    return {"predictions": predictions, "next_close": predictions[-1]}


@app.post("/predict/sine")
def predict_sine(body: SineRequest, request: Request) -> dict:
    model, spec = request.state.models["sine"]
    nested = isinstance(body.x[0], list)
    batch = inputs.windows(spec, body.x if nested else [body.x])
    return {"y": predict(model, spec, batch)[..., 0].tolist()}


@app.post("/classify")
def classify(body: ClassifyRequest, request: Request) -> dict:
    model, spec = request.state.models["classify"]
    nested = isinstance(body.x[0], list)
    probabilities = predict(model, spec, inputs.windows(spec, body.x if nested else [body.x]))
    return {
        "classes": np.argmax(probabilities, -1).tolist(),
        "probabilities": probabilities.tolist(),
    }


@app.get("/health/ready")
def ready() -> dict:
    return {"ready": True}
