"""`POST /models/{name}/evaluate`: a served model's scorecard on the caller's series.

The body depends on the model: daily rows for stock, an x range for the curve models. The
route reads it itself (service.api.body, bounded before it is parsed, like a prediction's),
and service.core.evaluation does the scoring through the model's batcher.
"""

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import ConfigDict, Field, Strict, field_validator

from service.api.body import bounded, encode, parse
from service.api.deps import registry_of
from service.api.errors import responses
from service.api.native.schemas import Number, StockRow, _Closed, dates_all_or_none
from service.api.openapi import json_body
from service.core import evaluation
from service.core.errors import InputError
from service.protocols.native import table

FIELDS = tuple(f for f in StockRow.model_fields if f != "date")  # the columns a row may hold
router = APIRouter(tags=["evaluate"], responses=responses(401, 404, 413, 415, 422, 429, 503))


class EvaluateRow(StockRow):
    """One trading day as found: any finite numbers. A row that breaks a rule of a consistent
    day is left out with every window it touches (or refused with `strict`)."""

    open: Number
    high: Number
    low: Number
    close: Number
    volume: Number
    money: Number | None = Field(None, description="Traded value; needed if the model uses it")


class EvaluateStockRequest(_Closed):
    """Daily rows of a series the stock model never saw (dates optional, on every row if any)."""

    rows: list[EvaluateRow] = Field(
        min_length=1,
        max_length=evaluation.MAX_ROWS,
        description=f"Daily rows: at least `window + 30` (50 for the shipped model) and at most "
        f"{evaluation.MAX_ROWS}; oldest first, or by their dates when given (a date twice "
        "or out of order marks its row). Every window whose next close is in the rows is "
        "scored, window k on the close of row window + k, except those that touch an "
        "inconsistent row (a price or volume <= 0, money < 0, low above high, open or close "
        "outside [low, high]): `data.excluded` lists those rows.",
    )
    strict: bool = Field(
        False, description="Refuse the rows at their first inconsistent one (422) instead"
    )

    @field_validator("rows")
    @classmethod
    def _dates(cls, rows: list[EvaluateRow]) -> list[EvaluateRow]:
        return dates_all_or_none(rows)


class EvaluateCurveRequest(_Closed):
    """A range of x for the sine and classify models; random windows inside it are scored."""

    x_from: Number | None = Field(None, description="Start of the range; default: trained min")
    x_to: Number | None = Field(
        None,
        description=f"End of the range, above x_from and at most {evaluation.MAX_X_SPAN:g} "
        "beyond it; default: trained max",
    )
    windows: Annotated[int, Strict()] = Field(
        evaluation.DEFAULT_WINDOWS, ge=1, le=evaluation.MAX_WINDOWS,
        description="How many random windows to score",
    )  # fmt: skip
    seed: Annotated[int, Strict()] = Field(0, ge=0, le=2**32 - 1, description="Of the draw")


class Scorecard(_Closed):
    model_config = ConfigDict(extra="allow")

    model: dict[str, Any] = Field(description="name and version scored")
    windows: int
    warned_windows: float = Field(description="Share of the windows the service would warn on")
    data: dict[str, Any] = Field(description="What was scored")
    scope: dict[str, Any] | None = Field(
        None,
        description="stock: which days the headline figures hold. On the series the model was "
        "trained on (recognised by its recorded month-end closes) they are its out-of-sample "
        "days only, and `periods` gives in-sample, validation and out-of-sample figures "
        "apart; on any other series every day is out-of-sample, and `why` says so.",
    )


def _stock_limits(spec: Any) -> tuple[dict[bytes, int], tuple, str]:
    """At most MAX_ROWS rows of at most 8 fields each (the StockRow fields), and `strict`."""
    rows = evaluation.MAX_ROWS
    return {b"{": rows + 1, b",": rows * 8 + 1}, ("rows",), f"must hold at most {rows} rows"


def _body(*models: type[_Closed]) -> dict[str, Any]:
    """The OpenAPI request body: one of the models (which one depends on the model scored)."""
    refs = [json_body(m)["requestBody"]["content"]["application/json"]["schema"] for m in models]
    content = {"application/json": {"schema": {"oneOf": refs}}}
    return {"requestBody": {"required": True, "content": content}}


_CURVE_LIMITS = ({b"{": 1, b",": 3}, (), "must be one object of x_from, x_to, windows, seed")


@router.post(
    "/models/{name}/evaluate",
    response_model=Scorecard,
    openapi_extra=_body(EvaluateStockRequest, EvaluateCurveRequest),
)
async def evaluate(name: str, request: Request) -> Response:
    """The model's scorecard on the body's series: stock takes daily rows, sine and classify a
    range of x. Metric against the naive baseline, interval coverage, warned windows."""
    model = (await registry_of(request)).model(name)
    trained_on = model.spec.trained_on
    if trained_on not in evaluation.SCORED:
        raise InputError((), f"{name}: no scorecard for a model trained on {trained_on!r} "
                             f"(scored: {', '.join(evaluation.SCORED)})")  # fmt: skip
    body = await request.body()
    if trained_on == "stock":
        stock = parse(EvaluateStockRequest, bounded(body, *_stock_limits(model.spec)))
        rows = stock.rows
        given = [f for f in FIELDS if all(getattr(row, f) is not None for row in rows)]
        columns = {f: np.array([getattr(row, f) for row in rows], np.float64) for f in given}
        dates = [row.date for row in rows] if rows[0].date is not None else None
        features = table(rows, model.spec.features)  # 422 for a field the model needs, absent
        card = await evaluation.stock(model, features, columns, dates, stock.strict)
    else:
        curve = parse(EvaluateCurveRequest, bounded(body, *_CURVE_LIMITS))
        card = await evaluation.curve(model, curve.x_from, curve.x_to, curve.windows, curve.seed)
    return encode(card)
