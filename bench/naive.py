"""The naive baseline: FastAPI and `model.predict` per request, as most tutorials serve Keras.

The Keras model is rebuilt from the same SavedModel: `keras.layers.TFSMLayer` wraps the
export's `serve` endpoint in a `keras.Sequential` with the metadata's input shape, so
`predict` runs the identical graph. Handlers are plain `def` (FastAPI runs them in its
thread pool), requests are validated by the service's own request models, and windows
are built by the service's own functions. Run: `uvicorn bench.naive:app`.
"""

import json
import os
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request

from service.predict import curve_batch, stock_batch
from service.api.native.schemas import ClassifyRequest, SineRequest, StockRequest

MODELS_DIR = Path(os.environ.get("MODELS_DIR", "models"))


def load_keras(name: str):
    """(keras model, metadata) of the newest version of `name`."""
    import keras

    model_dir = MODELS_DIR / name
    path = max((v for v in model_dir.iterdir() if v.name.isdigit()), key=lambda v: int(v.name))
    metadata = json.loads((path / "metadata.json").read_text())
    shape = (metadata["input"]["window"], len(metadata["input"]["features"]))
    model = keras.Sequential(
        [keras.Input(shape=shape), keras.layers.TFSMLayer(str(path), call_endpoint="serve")]
    )
    return model, metadata


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield {"models": {name: load_keras(name) for name in ("stock", "sine", "classify")}}


app = FastAPI(lifespan=lifespan)


@app.post("/predict/stock")
def predict_stock(body: StockRequest, request: Request) -> dict:
    model, meta = request.state.models["stock"]
    batch = stock_batch(body, meta["input"]["features"], meta["input"]["window"])
    predictions = model.predict(batch, verbose=0)[:, 0].tolist()
    return {"predictions": predictions, "next_close": predictions[-1]}


@app.post("/predict/sine")
def predict_sine(body: SineRequest, request: Request) -> dict:
    model, meta = request.state.models["sine"]
    batch, _ = curve_batch(body.x, meta["input"]["window"])
    return {"y": model.predict(batch, verbose=0)[..., 0].tolist()}


@app.post("/classify")
def classify(body: ClassifyRequest, request: Request) -> dict:
    model, meta = request.state.models["classify"]
    batch, _ = curve_batch(body.x, meta["input"]["window"])
    probabilities = model.predict(batch, verbose=0)
    classes = np.argmax(probabilities, -1)
    return {"classes": classes.tolist(), "probabilities": probabilities.tolist()}


@app.get("/health/ready")
def ready() -> dict:
    return {"ready": True}
