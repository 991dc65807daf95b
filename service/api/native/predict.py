"""The prediction routes: a body in, one call of the data plane, the native answer out.

Each route reads its body itself (service.api.body: one pydantic-core pass) and answers with
JSON it encodes itself, so FastAPI neither validates the body twice nor the answer again;
`response_model` still documents the answer.
"""

from operator import attrgetter
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response

from service.api.body import bounded, encode, parse
from service.api.deps import registry_of
from service.api.errors import responses
from service.api.native.schemas import (
    ClassifyRequest,
    ClassifyResponse,
    SineRequest,
    SineResponse,
    StockRequest,
    StockResponse,
    StockRow,
)
from service.api.openapi import json_body
from service.core import dataplane, inputs
from service.core.dataplane import Answer
from service.core.errors import InputError, ModelNotFound, ModelUnavailable
from service.core.registry import Model, Registry

router = APIRouter(tags=["predict"], responses=responses(401, 413, 415, 422, 429, 503))
SERVED = ("stock", "sine", "classify")  # the models these routes answer for, by name


def served(registry: Registry, name: str) -> Model:
    """The model a route answers for; 503 when it is not deployed (the route exists)."""
    try:
        return registry.model(name)
    except ModelNotFound:
        raise ModelUnavailable(name) from None


@router.post("/predict/stock", response_model=StockResponse, openapi_extra=json_body(StockRequest))
async def predict_stock(request: Request) -> Response:
    """Next-day close for every sliding window of the rows (oldest first)."""
    model = served(await registry_of(request), "stock")
    body = parse(StockRequest, bounded(await request.body(), *_row_limits(model.spec)))
    batch = inputs.stock_table(model.spec, table(body.rows, model.spec.features))
    answer = await dataplane.predict(model, batch)
    predictions = answer.prediction[:, 0].tolist()  # (n_windows, 1) -> n_windows
    return encode({**_head(answer), "predictions": predictions, "next_close": predictions[-1],
                   "intervals": _intervals(answer), "warnings": warnings(answer)})  # fmt: skip


@router.post("/predict/sine", response_model=SineResponse, openapi_extra=json_body(SineRequest))
async def predict_sine(request: Request) -> Response:
    """Fitted cos(x) for every x of one window or of several."""
    model = served(await registry_of(request), "sine")
    body = parse(SineRequest, bounded(await request.body(), *_window_limits(model.spec)))
    nested, answer = await _curve(model, body.x)
    y = answer.prediction[..., 0]  # (n_windows, window, 1) -> (n_windows, window)
    intervals = _intervals(answer)
    return encode({**_head(answer), "y": y.tolist() if nested else y[0].tolist(),
                   "intervals": intervals if nested or intervals is None else intervals[0],
                   "warnings": warnings(answer)})  # fmt: skip


@router.post("/classify", response_model=ClassifyResponse, openapi_extra=json_body(ClassifyRequest))
async def classify(request: Request) -> Response:
    """Class (1 where cos(4x) < 0) and both probabilities for every x."""
    model = served(await registry_of(request), "classify")
    body = parse(ClassifyRequest, bounded(await request.body(), *_window_limits(model.spec)))
    nested, answer = await _curve(model, body.x)
    probabilities = answer.prediction  # (n_windows, window, 2)
    classes = probabilities.argmax(axis=-1)  # (n_windows, window)
    if not nested:
        probabilities, classes = probabilities[0], classes[0]
    probabilities_list = probabilities.tolist()
    return encode({**_head(answer), "classes": classes.tolist(),
                   "probabilities": probabilities_list, "warnings": warnings(answer)})  # fmt: skip


# Called by the gate without FastAPI's routing (service.api.direct): each takes only the Request
DIRECT = {("POST", "/predict/stock"): predict_stock, ("POST", "/predict/sine"): predict_sine,
          ("POST", "/classify"): classify}  # fmt: skip


def _row_limits(spec: Any) -> tuple[dict[bytes, int], tuple, str]:
    """At most `window + 255` rows of at most 8 fields each (the StockRow fields)."""
    rows = spec.window + inputs.MAX_WINDOWS - 1
    return {b"{": rows + 1, b",": rows * 8}, ("rows",), f"must hold at most {rows} rows"


def _window_limits(spec: Any) -> tuple[dict[bytes, int], tuple, str]:
    """At most 256 windows of `window` values: one '[' per window and the outer list."""
    n, window = inputs.MAX_WINDOWS, spec.window
    limits = {b"[": n + 1, b",": n * window + n}
    return limits, ("x",), f"must hold at most {n} windows of {window} values"


def table(rows: list[StockRow], features: tuple[str, ...]) -> np.ndarray:
    """`(n_rows, F)` float64, columns in the model's feature order."""
    found = np.array(list(map(attrgetter(*features), rows)), dtype=np.float64)
    if np.isnan(found).any():  # a None (JSON numbers are finite): an optional field the model needs
        r, f = (int(i) for i in np.argwhere(np.isnan(found))[0])
        raise InputError(("rows", r, features[f]), "is required: the model uses it")
    return found


async def _curve(model: Any, x: list) -> tuple[bool, Answer]:
    nested = isinstance(x[0], list)
    try:
        batch = inputs.windows(model.spec, x if nested else [x])
    except InputError as exc:
        raise _curve_error(exc, nested) from None
    return nested, await dataplane.predict(model, batch)


def _curve_error(exc: InputError, nested: bool) -> InputError:
    """Core locations `(i, step, feature)` -> `x[i][step]` (or `x[step]` for one window)."""
    loc = exc.loc[:2] if nested else exc.loc[1:2]
    msg = f"each window {exc.msg}" if nested and len(exc.loc) == 1 else exc.msg
    return InputError(("x", *loc), msg)


def _head(answer: Answer) -> dict[str, Any]:
    return {"model": answer.model, "version": answer.version}


def _intervals(answer: Answer) -> list | None:
    """One {lower, upper, level} per prediction, nested like the prediction without its last
    axis of size 1; None if the model has no interval."""
    if answer.lower is None:
        return None
    level = answer.level
    lower, upper = answer.lower[..., 0], answer.upper[..., 0]
    if lower.ndim == 1:
        return [{"lower": lo, "upper": hi, "level": level}
                for lo, hi in zip(lower.tolist(), upper.tolist(), strict=True)]  # fmt: skip
    return [
        [{"lower": lo, "upper": hi, "level": level} for lo, hi in zip(los, his, strict=True)]
        for los, his in zip(lower.tolist(), upper.tolist(), strict=True)
    ]


def warnings(answer: Answer) -> list[dict[str, Any]]:
    return [
        {"window": w.window, "feature": w.feature, "step": w.step, "value": w.value,
         "measure": w.measure, "distance": w.distance, "threshold": w.threshold,
         "message": w.message}
        for w in answer.warnings
    ]  # fmt: skip
