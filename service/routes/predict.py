"""Prediction endpoints."""

from fastapi import APIRouter

from service import predict
from service.errors import error_body, responses
from service.limits import StrictJSONRoute
from service.registry import RegistryDep
from service.schemas import (
    ClassifyRequest,
    ClassifyResponse,
    SineRequest,
    SineResponse,
    StockRequest,
    StockResponse,
)

_ERRORS = responses(401, 413, 415, 422, 429, 503)
_ERRORS[503]["content"] = {
    "application/json": {"example": error_body("model 'stock' is not available")}
}
# StrictJSONRoute: invalid UTF-8 and duplicate keys are 422s like any other bad JSON
router = APIRouter(tags=["predict"], responses=_ERRORS, route_class=StrictJSONRoute)


@router.post("/predict/stock", response_model=StockResponse)
async def predict_stock(body: StockRequest, registry: RegistryDep) -> StockResponse:
    """Next-day close for every sliding window of the rows (oldest first)."""
    return await predict.predict_stock(registry.get("stock"), body)


@router.post("/predict/sine", response_model=SineResponse)
async def predict_sine(body: SineRequest, registry: RegistryDep) -> SineResponse:
    """Fitted cos(x) for every x of one window or of several."""
    return await predict.predict_sine(registry.get("sine"), body)


@router.post("/classify", response_model=ClassifyResponse)
async def classify(body: ClassifyRequest, registry: RegistryDep) -> ClassifyResponse:
    """Class (1 where cos(4x) < 0) and both probabilities for every x."""
    return await predict.predict_classes(registry.get("classify"), body)
