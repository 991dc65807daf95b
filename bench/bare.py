"""The bare variant: FastAPI with the service's request models and a constant answer.

What any FastAPI server pays for these bodies and nothing more: routing, parsing and
validating the same Pydantic request models, and a JSON answer of the real response's
shape (one value per window or per x, an interval for each, an empty warnings list, with
numbers of the real answer's length). No middleware, no logging (`make bench` runs it
with `--no-access-log --log-level warning`), no TensorFlow.

The handlers declare `-> dict`, so FastAPI writes the answer with pydantic-core's JSON
encoder (its fast path for a response model), as the shipped routes do with theirs;
without the annotation it would take `jsonable_encoder`, which made this app 2-3x slower
in `python -m bench.inprocess` (stock 383 -> 155 us, sine 406 -> 117, classify 221 -> 69).
Run: `uvicorn bench.bare:app`.
"""

from fastapi import FastAPI

from service.api.kserve.schemas import V2InferRequest
from service.api.native.schemas import ClassifyRequest, SineRequest, StockRequest

WINDOW = 20  # the shipped models' window
# numbers taken from real answers to the example bodies, so the JSON is as long
CLOSE, Y, P = 2735.642333984375, -0.9549742937088013, [0.5029193758964539, 0.49708056449890137]
CLOSE_BAND = {"lower": 2697.3728647536377, "upper": 2768.5652108789104, "level": 0.9}
Y_BAND = {"lower": -0.99857497215271, "upper": -0.9124849498271943, "level": 0.9}

app = FastAPI(title="bare")


def nested(x: list, value) -> list:
    """`value` for every x, nested like x (one window, or a list of windows)."""
    if x and isinstance(x[0], list):
        return [[value] * len(window) for window in x]
    return [value] * len(x)


@app.post("/predict/stock")
async def predict_stock(body: StockRequest) -> dict:
    n = max(len(body.rows) - WINDOW + 1, 0)  # sliding windows
    return {"model": "stock", "version": 1, "predictions": [CLOSE] * n, "next_close": CLOSE,
            "intervals": [CLOSE_BAND] * n, "warnings": []}  # fmt: skip


@app.post("/predict/sine")
async def predict_sine(body: SineRequest) -> dict:
    return {"model": "sine", "version": 1, "y": nested(body.x, Y),
            "intervals": nested(body.x, Y_BAND), "warnings": []}  # fmt: skip


@app.post("/classify")
async def classify(body: ClassifyRequest) -> dict:
    return {"model": "classify", "version": 1, "classes": nested(body.x, 0),
            "probabilities": nested(body.x, P), "warnings": []}  # fmt: skip


# the stock model's outputs per window, as the Open Inference Protocol answers them
V2_STOCK = {"next_close": CLOSE, "lower": CLOSE_BAND["lower"], "upper": CLOSE_BAND["upper"]}


@app.post("/v2/models/{name}/infer")
async def infer(name: str, body: V2InferRequest) -> dict:
    """The stock answer's shape: each output asked for (all without `outputs`), per window."""
    n = body.inputs[0].shape[0] if body.inputs[0].shape else 0
    names = [o.name for o in body.outputs] if body.outputs else [*V2_STOCK, "warnings"]
    outputs = [
        {"name": o, "datatype": "FP32", "shape": [n, 1], "data": [V2_STOCK[o]] * n}
        if o in V2_STOCK else {"name": o, "datatype": "BYTES", "shape": [0], "data": []}
        for o in names
    ]  # fmt: skip
    return {"model_name": name, "model_version": "1", "id": body.id or "bare",
            "outputs": outputs, "parameters": {"interval_level": CLOSE_BAND["level"]}}  # fmt: skip


@app.get("/health/ready")
async def ready() -> dict:
    return {"ready": True}
