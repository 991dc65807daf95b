"""Scorecards from the service: a served model scored on a caller's series, in bounded chunks.

The scoring is artifact.scorecard and the curve windows artifact.series, the same
definitions `python -m training evaluate` uses, so the same data gives the same card. Every
chunk of windows goes through the model's batcher like a prediction request, and the event
loop is yielded between chunks, so prediction traffic keeps its turn while a series is scored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from artifact import consistency, periods, scorecard, series
from service.core import inputs
from service.core.errors import InputError

if TYPE_CHECKING:
    from service.core.registry import Model

MAX_ROWS = 5000  # daily rows in one stock request (a prediction's: 275)
MAX_WINDOWS = 5000  # curve windows in one request
DEFAULT_WINDOWS = 2000  # curve windows when the request gives none (the CLI's default)
MAX_X_SPAN = 10_000.0  # x_to - x_from: bounds the sign changes a classify card draws from
CHUNK = inputs.MAX_WINDOWS  # windows per call of the batcher: one prediction request's most
# what a model was trained on (its config.task: artifact.metadata.trained_on) -> its scorecard
SCORED = ("stock", "sine", "classify")


async def outputs(model: Model, batch: np.ndarray) -> dict[str, np.ndarray]:
    """The model's named outputs for `batch` `(n, window, F)`, CHUNK windows per call."""
    parts = []
    for start in range(0, len(batch), CHUNK):
        parts.append(await model.predict(batch[start : start + CHUNK]))
        await asyncio.sleep(0)  # let queued prediction requests reach the batcher first
    found = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if not np.isfinite(found[model.spec.prediction]).all():
        raise InputError((), "the input is outside what the model can handle (non-finite output)")
    return found


def _head(model: Model) -> dict:
    return {"model": {"name": model.name, "version": model.version}}


async def stock(model: Model, table: np.ndarray, columns: dict[str, np.ndarray],
                dates: list[dt.date] | None, strict: bool = False) -> dict:  # fmt: skip
    """The next-close scorecard of every window whose next close is in the rows.

    `table` (n_rows, F) in the model's feature order; `columns` every field the rows hold,
    by name (close among them), checked by artifact.consistency as the CLI checks a CSV:
    rows in date order, each date once, and every window that touches an inconsistent row
    left out (InputError at the first one when `strict`). Window k covers rows
    k..k+window-1 and is scored on the close of row window + k, against persistence. Rows of
    the series the model was trained on (artifact.periods) headline their out-of-sample days.
    """
    spec, window = model.spec, model.spec.window
    least = window + scorecard.MIN_TARGETS
    if not least <= len(table) <= MAX_ROWS:
        raise InputError(("rows",), f"must hold between {least} and {MAX_ROWS} rows "
                                    f"(got {len(table)})")  # fmt: skip
    day = None if dates is None else np.array(dates, dtype="datetime64[D]")
    try:
        found = consistency.as_found(columns, day, strict)
    except consistency.Inconsistent as exc:
        raise InputError(("rows", exc.row, exc.column), exc.problem) from None
    given, bad = found.rows, found.bad  # row positions as sent, in date order; bad among them
    table, close = table[given], columns["close"][given]
    day = None if day is None else day[given]
    starts = np.flatnonzero(consistency.clean_windows(bad, window))
    if len(starts) < scorecard.MIN_TARGETS:
        raise InputError(("rows",), f"{len(starts)} next-day close(s) to score once the windows "
                         f"that touch the {len(found.excluded)} inconsistent row(s) are left "
                         f"out; at least {scorecard.MIN_TARGETS} are needed")  # fmt: skip
    batch = _checked_windows(spec, table, bad, starts, given)
    out = await outputs(model, batch)
    forecast = out[spec.prediction][:, 0]
    bands = (out[spec.lower][:, 0], out[spec.upper][:, 0]) if spec.lower else (forecast,) * 2
    data = spec.meta.data
    clean = ~bad
    identified = periods.identify(data, None, None if day is None else day[clean], close[clean])
    targets = starts + window  # (n,) the row of each window's next close
    period = (periods.labels(day[targets], data["splits"], True) if identified[0]
              else np.full(len(targets), periods.OUT_OF_SAMPLE, dtype=object))  # fmt: skip
    days = (np.char.add("row ", given[targets].astype(str)) if day is None
            else day[targets].astype(str))  # fmt: skip
    years = None if day is None else day[targets].astype("datetime64[Y]").astype(int) + 1970
    try:
        card = periods.stock(period, days, close[targets], close[targets - 1], forecast, *bands,
                             out[spec.drift_score], spec.drift.threshold, spec.level, years,
                             identified)  # fmt: skip
    except ValueError as exc:
        raise InputError(("rows",), str(exc)) from None
    if not spec.lower:
        card["interval"] = None
    oos = targets[period == periods.OUT_OF_SAMPLE]
    first, last = (None, None) if day is None else (str(day[oos[0]]), str(day[oos[-1]]))
    excluded = consistency.record(found.excluded)
    card["data"] = {"source": "request", "rows": len(columns["close"]), "first_target": first,
                    "last_target": last, "excluded": excluded}  # fmt: skip
    return {**_head(model), **card}


def _checked_windows(spec, table: np.ndarray, bad: np.ndarray, starts: np.ndarray,
                     given: np.ndarray) -> np.ndarray:  # fmt: skip
    """The windows starting at `starts` `(n, window, F)` float32, through the model's input
    rules (service.core.inputs) on the consistent rows; errors name rows as sent."""
    good = np.flatnonzero(~bad)
    where = lambda at: ("rows", int(given[good[at[0]]]), spec.features[at[1]])  # noqa: E731
    inputs.checks(spec).values(table[good], where)
    return inputs.sliding(spec, table, starts, lambda r: int(given[r]))


def curve_range(model: Model, x_from: float | None, x_to: float | None) -> tuple[float, float]:
    """The x range to score: the request's, or the model's trained bounds where it gives none."""
    bounds = model.spec.meta.bounds.get("x")
    x_from = x_from if x_from is not None else bounds.min if bounds else None
    x_to = x_to if x_to is not None else bounds.max if bounds else None
    if x_from is None or x_to is None:
        raise InputError(("x_from" if x_from is None else "x_to",), "is required for this model")
    if x_to <= x_from:
        raise InputError(("x_to",), f"must be greater than x_from ({x_to:g} <= {x_from:g})")
    if x_to - x_from > MAX_X_SPAN:
        raise InputError(("x_to",), f"x_to - x_from must be at most {MAX_X_SPAN:g} "
                                    f"(got {x_to - x_from:g})")  # fmt: skip
    return x_from, x_to


async def curve(model: Model, x_from: float | None, x_to: float | None,
                windows: int = DEFAULT_WINDOWS, seed: int = 0) -> dict:  # fmt: skip
    """The scorecard of a curve model on `windows` random windows inside [x_from, x_to)."""
    spec = model.spec
    x_from, x_to = curve_range(model, x_from, x_to)
    step = float(spec.meta.config.get("x_step", 0.0))
    if not step > 0:
        raise InputError((), f"{model.name}: its metadata gives no x_step; no scorecard")
    try:
        x, straddle = series.scoring_windows(spec.trained_on, windows, spec.window, step,
                                             x_from, x_to, seed)  # fmt: skip
    except ValueError as exc:
        raise InputError(("x_to",), str(exc)) from None
    out = await outputs(model, x.astype(np.float32))
    p_straddle = None
    if len(straddle):
        p_straddle = (await outputs(model, straddle.astype(np.float32)))[spec.prediction]
    names = {"prediction": spec.prediction, "interval_lower": spec.lower,
             "interval_upper": spec.upper, "drift_score": spec.drift_score}  # fmt: skip
    card = series.curve_card(
        spec.trained_on, x, out, straddle, p_straddle, names, spec.drift.threshold
    )
    card["data"] = series.curve_data(x_from, x_to, step, seed)
    return {**_head(model), **card}
