"""Request and response bodies of the native API; constraints live here so OpenAPI shows them.

Type and range rules are pydantic's (checked in Rust while the JSON is parsed); the rules of
the model's raw rows (a price too small for float32, low above high, price ratios) are the
core's (service.core.inputs), so every protocol applies the same ones.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, field_validator

from service import examples
from service.core.inputs import F32_MAX, MAX_WINDOWS

# Strict: JSON numbers only (ints fine); strings and booleans are rejected
Price = Annotated[float, Strict(), Field(gt=0, le=F32_MAX, allow_inf_nan=False)]
Amount = Annotated[float, Strict(), Field(ge=0, le=F32_MAX, allow_inf_nan=False)]
Number = Annotated[float, Strict(), Field(ge=-F32_MAX, le=F32_MAX, allow_inf_nan=False)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StockRow(_Closed):
    """One trading day; the fields the model was trained with are listed in GET /models/stock."""

    date: dt.date | None = Field(None, description="YYYY-MM-DD; if given on every row, increasing")
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Amount
    money: Amount | None = Field(None, description="Traded value; needed if the model uses it")
    change: Number | None = Field(None, description="Daily change; needed if the model uses it")


class StockRequest(_Closed):
    model_config = ConfigDict(json_schema_extra={"examples": [{"rows": examples.STOCK_ROWS}]})

    rows: list[StockRow] = Field(
        min_length=1,
        description=f"Daily rows, oldest first: at least `window` rows (20 for the shipped model) "
        f"and at most `window + {MAX_WINDOWS - 1}` ({MAX_WINDOWS} sliding windows).",
    )

    @field_validator("rows")
    @classmethod
    def _dates_increase(cls, rows: list[StockRow]) -> list[StockRow]:
        dates = [row.date for row in dates_all_or_none(rows)]
        if None in dates:
            return rows
        for i in range(1, len(rows)):
            if dates[i] <= dates[i - 1]:
                raise ValueError(
                    f"dates must be strictly increasing: rows[{i}].date {rows[i].date} "
                    f"is not after rows[{i - 1}].date {rows[i - 1].date}"
                )
        return rows


def dates_all_or_none(rows: list[StockRow]) -> list[StockRow]:
    """A date on every row or on none."""
    dates = [row.date for row in rows]
    if None in dates and any(dates):
        raise ValueError(f"give a date on every row or on none (rows[{dates.index(None)}])")
    return rows


class InputWarning(BaseModel):
    """One window whose model inputs lie outside what the model saw in training."""

    window: int = Field(description="Index of the window in the request (0 for a single window)")
    feature: str
    step: int = Field(description="Position in the window of the farthest value")
    value: float = Field(description="The model input there (stock: the scale-free value)")
    measure: Literal["z_score", "outside_range"]
    distance: float = Field(
        description="z_score: the z-score against the training statistics; outside_range: how "
        "far the value lies beyond the trained [min, max]"
    )
    threshold: float = Field(description="Warn when |z| or the distance exceeds it")
    message: str


class Interval(BaseModel):
    """Prediction interval from residual quantiles measured on held-out data."""

    lower: float
    upper: float
    level: float = Field(description="Nominal coverage, e.g. 0.9")


_WARNINGS_DOC = "Windows whose inputs lie outside the training distribution; empty when fine"


class StockResponse(BaseModel):
    model: str
    version: int
    predictions: list[float] = Field(description="predictions[k]: close after row window-1+k")
    next_close: float = Field(description="Forecast close of the day after the last row")
    intervals: list[Interval] | None = Field(
        None, description="One per prediction; null if the model has no interval"
    )
    warnings: list[InputWarning] = Field(default_factory=list, description=_WARNINGS_DOC)


def _window_form(value: Any) -> str:
    nested = isinstance(value, list) and bool(value) and isinstance(value[0], list)
    return "windows" if nested else "window"


# {"x": [20 floats]} or {"x": [[20 floats], ...]}; the tags never show in error paths
CurveInput = Annotated[
    Annotated[list[Number], Field(min_length=1), Tag("window")]
    | Annotated[
        list[Annotated[list[Number], Field(min_length=1)]],
        Field(min_length=1, max_length=MAX_WINDOWS),
        Tag("windows"),
    ],
    Discriminator(_window_form),
]
_X_DOC = (
    f"One window of `window` x values (20 for the shipped models), or a list of up to "
    f"{MAX_WINDOWS} such windows; answers keep the same nesting and order."
)


class SineRequest(_Closed):
    model_config = ConfigDict(json_schema_extra={"examples": [{"x": examples.SINE_X}]})

    x: CurveInput = Field(description=_X_DOC)


class ClassifyRequest(_Closed):
    model_config = ConfigDict(json_schema_extra={"examples": [{"x": examples.CLASSIFY_X}]})

    x: CurveInput = Field(description=_X_DOC)


class SineResponse(BaseModel):
    model: str
    version: int
    y: list[float] | list[list[float]] = Field(description="Fitted value per x, nested like x")
    intervals: list[Interval] | list[list[Interval]] | None = Field(
        None, description="One per y, nested like y; null if the model has no interval"
    )
    warnings: list[InputWarning] = Field(default_factory=list, description=_WARNINGS_DOC)


class ClassifyResponse(BaseModel):
    model: str
    version: int
    classes: list[int] | list[list[int]] = Field(description="0 or 1 per x, nested like x")
    probabilities: list[list[float]] | list[list[list[float]]] = Field(
        description="[p(class 0), p(class 1)] per x, nested like x"
    )
    warnings: list[InputWarning] = Field(default_factory=list, description=_WARNINGS_DOC)
