"""The prediction routes: a body in, the native codec (service.protocols.native), JSON out.

Each route reads its body itself (service.api.body: one pydantic-core pass) and answers with
JSON it encodes itself, so FastAPI neither validates the body twice nor the answer again;
`response_model` still documents the answer. `POST /predict/{name}` serves any model by the
task in its metadata; `/predict/stock`, `/predict/sine` and `/classify` are the same call for
the shipped models, answering 503 rather than 404 when theirs is not deployed.
"""

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

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
)
from service.api.openapi import json_body
from service.core import inputs
from service.core.errors import ModelNotFound, ModelUnavailable
from service.core.registry import Model, Registry
from service.protocols import native

router = APIRouter(tags=["predict"], responses=responses(401, 413, 415, 422, 429, 503))
SERVED = ("stock", "sine", "classify")  # the models with a route of their own, by name


def served(registry: Registry, name: str) -> Model:
    """The model a route of its own answers for; 503 when it is not deployed."""
    try:
        return registry.model(name)
    except ModelNotFound:
        raise ModelUnavailable(name) from None


@router.post("/predict/stock", response_model=StockResponse, openapi_extra=json_body(StockRequest))
async def predict_stock(request: Request) -> Response:
    """Next-day close for every sliding window of the rows (oldest first)."""
    return await _predict(served(await registry_of(request), "stock"), request)


@router.post("/predict/sine", response_model=SineResponse, openapi_extra=json_body(SineRequest))
async def predict_sine(request: Request) -> Response:
    """Fitted cos(x) for every x of one window or of several."""
    return await _predict(served(await registry_of(request), "sine"), request)


@router.post("/classify", response_model=ClassifyResponse, openapi_extra=json_body(ClassifyRequest))
async def classify(request: Request) -> Response:
    """Class (1 where cos(4x) < 0) and both probabilities for every x."""
    return await _predict(served(await registry_of(request), "classify"), request)


_ANY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
    json_body(m)["requestBody"]["content"]["application/json"]["schema"]
    for m in (StockRequest, SineRequest)]}}}}}  # fmt: skip


@router.post(
    "/predict/{name}",
    response_model=StockResponse | SineResponse | ClassifyResponse,
    openapi_extra=_ANY,
    responses=responses(404),
)
async def predict_model(request: Request, name: str) -> Response:
    """Any model, by its task: rows for a regression (as /predict/stock), `x` for a curve (as
    /predict/sine) or a classification (as /classify)."""
    return await _predict((await registry_of(request)).model(name), request)


async def _predict(model: Model, request: Request) -> Response:
    schema, limits = _body(model.spec)
    body: Any = parse(schema, bounded(await request.body(), *limits))
    given = body.rows if model.spec.task == "regression" else body.x
    return encode(await native.predict(model, given))


def _body(spec: Any) -> tuple[type[BaseModel], tuple[dict[bytes, int], tuple, str]]:
    if spec.task == "regression":
        return StockRequest, _row_limits(spec)
    return (SineRequest if spec.task == "curve" else ClassifyRequest), _window_limits(spec)


def _row_limits(spec: Any) -> tuple[dict[bytes, int], tuple, str]:
    """At most `window + 255` rows of at most 8 fields each (the StockRow fields)."""
    rows = spec.window + inputs.MAX_WINDOWS - 1
    return {b"{": rows + 1, b",": rows * 8}, ("rows",), f"must hold at most {rows} rows"


def _window_limits(spec: Any) -> tuple[dict[bytes, int], tuple, str]:
    """At most 256 windows of `window` values: one '[' per window and the outer list."""
    n, window = inputs.MAX_WINDOWS, spec.window
    limits = {b"[": n + 1, b",": n * window + n}
    return limits, ("x",), f"must hold at most {n} windows of {window} values"
