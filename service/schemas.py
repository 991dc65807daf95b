"""Request and response bodies of every endpoint; constraints live here so OpenAPI shows them."""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    ValidationInfo,
    field_validator,
)

from service import examples

F32_MAX = 3.4e38  # larger magnitudes overflow float32 before the model sees them
F32_TINY = 1.2e-38  # smaller positive prices vanish to 0 in float32 (its smallest normal number)
MAX_WINDOWS = 256  # windows per request, sliding (stock) or listed (sine, classify)

# Strict: JSON numbers only (ints fine); strings and booleans are rejected


def _float32_normal(price: float) -> float:
    if price < F32_TINY:
        raise ValueError(f"must be at least {F32_TINY:g} (smaller prices vanish in float32)")
    return price


Price = Annotated[
    float, Strict(), Field(gt=0, le=F32_MAX, allow_inf_nan=False), AfterValidator(_float32_normal)
]
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

    @field_validator("low")
    @classmethod
    def _low_not_above_high(cls, low: float, info: ValidationInfo) -> float:
        high = info.data.get("high")
        if high is not None and low > high:
            raise ValueError(f"must not exceed high ({low:g} > {high:g})")
        return low


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
        dated = [row.date is not None for row in rows]
        if any(dated) and not all(dated):
            raise ValueError(f"give a date on every row or on none (rows[{dated.index(False)}])")
        for i in range(1, len(rows) if all(dated) else 0):
            if rows[i].date <= rows[i - 1].date:
                raise ValueError(
                    f"dates must be strictly increasing: rows[{i}].date {rows[i].date} "
                    f"is not after rows[{i - 1}].date {rows[i - 1].date}"
                )
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


class ModelSummary(BaseModel):
    name: str
    version: int
    task: str | None
    window: int
    features: list[str]
    metrics: dict[str, Any] = Field(description="Test metrics, with the naive baseline")


class ModelsResponse(BaseModel):
    models: list[ModelSummary]


class VersionInfo(BaseModel):
    version: int
    state: Literal["AVAILABLE", "START", "END"] = Field(
        description="AVAILABLE: serving; START: on disk, not loaded (yet); END: superseded or "
        "rejected"
    )
    serving: bool
    error: str = Field("", description="Why the version is not served, if it failed to load")


class ModelCard(BaseModel):
    """What the served model is, what it was trained on, how well it does: GET /models/{name}."""

    name: str
    version: int = Field(description="The version being served")
    task: str | None
    description: str | None
    created_at: str | None
    versions: list[VersionInfo] = Field(description="Every version directory found, newest first")
    input: dict[str, Any] = Field(description="features (in order), window, shape, dtype")
    output: dict[str, Any]
    data: dict[str, Any] = Field(description="Source, sha256 and the chronological splits")
    bounds: dict[str, Any] = Field(description="Raw range of each input feature in training")
    statistics: dict[str, Any] = Field(description="Statistics of the model inputs, training split")
    metrics: dict[str, Any] = Field(description="Validation and test metrics, with baselines")
    interval: dict[str, Any] | None = Field(
        description="Residual quantiles and their coverage measured on the test split"
    )
    drift: dict[str, Any] = Field(description="How requests are checked for out-of-range inputs")
    training: dict[str, Any] = Field(description="Seconds, epochs, best epoch, loss history")
    libraries: dict[str, Any]
    config: dict[str, Any] = Field(description="The resolved training config")
    charts: dict[str, str] = Field(description="Chart kind -> URL of its PNG, where present")


class LiveResponse(BaseModel):
    status: str = "alive"


class ReadyResponse(BaseModel):
    ready: bool
    models: dict[str, int] = Field(description="Loaded and warmed models and their versions")
    failed: list[str] = Field(description="Models found on disk that could not be loaded")
    reload_errors: dict[str, str] = Field(
        default_factory=dict,
        description="Model -> why its newest version was rejected by hot reload (the older "
        "version keeps serving)",
    )
