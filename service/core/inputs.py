"""Numbers from a request -> the model's windows, with every input rule, for every protocol.

Rules come from the model's metadata (`input.rules`), so the service holds no list of price
columns of its own. Locations in errors are relative to what the caller passed: `("rows", r,
feature)` for a table of daily rows, `(i, step, feature)` for a batch of windows; each protocol
turns them into its own paths.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from artifact.metadata import Spec
from service.core.errors import InputError, Loc, short

F32_MAX = 3.4e38  # larger magnitudes overflow float32 before the model sees them
F32_TINY = 1.2e-38  # float32's smallest normal number: smaller positive prices vanish to 0
MAX_WINDOWS = 256  # windows per request, sliding (rows) or listed (a batch)
MAX_DIMS = 8  # dimensions of an input tensor a protocol may declare (a batch has 2 or 3)


def declared_shape(shape: Sequence[int], window: int, n_features: int) -> str | None:
    """What rules out a tensor shape a request declares, before any value is read, or None:
    more than MAX_DIMS dimensions, a negative one, more values than MAX_WINDOWS windows hold,
    or one dimension past that (numpy refuses [0, 2**62] even with no values)."""
    if len(shape) > MAX_DIMS:
        return f"has {len(shape)} dimensions; a tensor here has at most {MAX_DIMS}"
    limit = MAX_WINDOWS * window * n_features
    if any(d < 0 for d in shape):
        problem = "has a negative dimension"
    elif math.prod(shape) > limit:
        problem = f"holds more than {MAX_WINDOWS} windows of {window} x {n_features} values"
    elif any(d > limit for d in shape):
        problem = f"has a dimension larger than {limit}"
    else:
        return None
    return f"{short(list(shape))} {problem}"


class Checks:
    """One model's rules as index arrays over its features, built once per loaded version."""

    def __init__(self, spec: Spec) -> None:
        index = {name: i for i, name in enumerate(spec.features)}
        rules = spec.rules
        self.features = spec.features
        self.positive = np.array([index[n] for n in rules.positive], dtype=np.intp)
        self.non_negative = np.array([index[n] for n in rules.non_negative], dtype=np.intp)
        self.ordered = [(index[a], index[b]) for a, b in rules.ordered]
        ratio = rules.log_ratio
        self.ratio = np.array([index[n] for n in ratio.features], dtype=np.intp) if ratio else None
        self.denominator = index[ratio.denominator] if ratio else None
        # the per-value rules as one range per feature, for the common all-valid case
        self.low = np.full(len(spec.features), -F32_MAX)
        self.low[self.non_negative] = 0.0
        self.low[self.positive] = F32_TINY
        self.a = np.array([a for a, _ in self.ordered], dtype=np.intp)
        self.b = np.array([b for _, b in self.ordered], dtype=np.intp)

    def values(self, table: np.ndarray, locate: Callable[[tuple[int, ...]], Loc]) -> None:
        """Per-value rules on `(..., F)`: finite float32, positive, non-negative, ordered.

        One vectorised test answers the common case (every value valid); only a request that
        breaks a rule pays for finding which rule and where."""
        in_range = ((table >= self.low) & (table <= F32_MAX)).all()  # False for NaN too
        if in_range and (table[..., self.a] <= table[..., self.b]).all():
            return
        ok = np.abs(table) <= F32_MAX  # False for NaN and infinities too
        if not ok.all():
            raise InputError(locate(_first(~ok)), "must be a finite float32 number")
        if self.positive.size:
            low = table[..., self.positive] < F32_TINY
            if low.any():
                at = _first(low)
                raise InputError(
                    locate((*at[:-1], int(self.positive[at[-1]]))),
                    f"must be at least {F32_TINY:g} (a price; smaller ones vanish in float32)",
                )
        if self.non_negative.size:
            negative = table[..., self.non_negative] < 0
            if negative.any():
                at = _first(negative)
                where = locate((*at[:-1], int(self.non_negative[at[-1]])))
                raise InputError(where, "must be greater than or equal to 0")
        for a, b in self.ordered:
            wrong = table[..., a] > table[..., b]
            if wrong.any():
                at = _first(wrong)
                va, vb = float(table[(*at, a)]), float(table[(*at, b)])
                message = f"must not exceed {self.features[b]} ({va:g} > {vb:g})"
                raise InputError(locate((*at, a)), message)

    def ratios(self, batch: np.ndarray, locate: Callable[[tuple[int, ...]], Loc]) -> None:
        """The model takes log(price / window's last close): each ratio a float32 normal."""
        if self.ratio is None or not self.ratio.size:
            return
        prices = batch[..., self.ratio]  # positive and finite here (values() ran first)
        if prices.max() <= 1e37 * prices.min():  # no ratio of any two can leave the range
            return
        last = batch[:, -1:, self.denominator : self.denominator + 1]  # (n, 1, 1)
        ratio = batch[..., self.ratio] / last  # (n, window, n_ratio)
        bad = (ratio < F32_TINY) | (ratio > F32_MAX)
        if bad.any():
            w, step, k = _first(bad)
            raise InputError(
                locate((w, step, int(self.ratio[k]))),
                f"is {ratio[w, step, k]:.3g} times the {self.features[self.denominator]} of "
                f"the window's last row; the model's log-ratio inputs need values within a "
                "factor of 1e38 of each other",
            )


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def checks(spec: Spec) -> Checks:
    """The compiled rules of `spec`, built on first use and kept on it."""
    found = spec.__dict__.get("_checks")
    if found is None:
        found = spec.__dict__["_checks"] = Checks(spec)
    return found


def stock_table(spec: Spec, table: np.ndarray, rows: tuple[int, int] | None = None) -> np.ndarray:
    """Daily rows `(n_rows, F)`, oldest first -> every sliding window `(n, window, F)`.

    `rows`: the fewest and most rows allowed (a prediction's: `window` to `window + 255`).
    """
    window, n = spec.window, len(table)
    low, high = rows or (window, window + MAX_WINDOWS - 1)
    if not low <= n <= high:
        raise InputError(("rows",), f"must hold between {low} and {high} rows (got {n})")
    features = spec.features
    checks(spec).values(table, lambda at: ("rows", at[0], features[at[1]]))
    return sliding(spec, table, np.arange(n - window + 1))


def sliding(spec: Spec, table: np.ndarray, starts: np.ndarray,
            row: Callable[[int], int] = int) -> np.ndarray:  # fmt: skip
    """The windows of `table` `(n_rows, F)` starting at `starts`, `(n, window, F)` float32,
    their price ratios checked; `row(r)` names table row r in an error (as the caller sent it)."""
    features = spec.features
    batch = table[starts[:, np.newaxis] + np.arange(spec.window)]  # every window, in one gather
    checks(spec).ratios(
        batch, lambda at: ("rows", row(int(starts[at[0]]) + at[1]), features[at[2]])
    )
    return batch.astype(np.float32)


def windows(spec: Spec, values: Any) -> np.ndarray:
    """A batch of windows `(n, window, F)` (or `(n, window)` for one feature), checked."""
    window, n_features = spec.input_shape
    try:
        batch = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):
        batch = None
    if batch is not None and batch.ndim == 2 and n_features == 1:
        batch = batch[..., np.newaxis]
    if batch is None or batch.ndim != 3 or batch.shape[1:] != (window, n_features):
        raise InputError(*_shape_error(values, window, spec.features))
    if not 1 <= len(batch) <= MAX_WINDOWS:
        raise InputError((), f"must hold 1 to {MAX_WINDOWS} windows (got {len(batch)})")
    rules, features = checks(spec), spec.features
    rules.values(batch, lambda at: (at[0], at[1], features[at[2]]))
    rules.ratios(batch, lambda at: (at[0], at[1], features[at[2]]))
    return batch.astype(np.float32)


def _shape_error(values: Any, window: int, features: tuple[str, ...]) -> tuple[Loc, str]:
    """Where a batch first departs from `[n, window, n_features]`, found by walking it."""
    n_features = len(features)
    shape = f"[n, {window}, {n_features}]" if n_features > 1 else f"[n, {window}]"
    if not _is_list(values) or not len(values):
        return (), f"must be a non-empty list of windows, shape {shape}"
    for i, rows in enumerate(values):
        if not _is_list(rows) or len(rows) != window:
            got = len(rows) if _is_list(rows) else _kind(rows)
            unit = "values" if n_features == 1 else "rows"
            return (i,), f"must hold exactly {window} {unit} (got {got})"
        for step, row in enumerate(rows):
            single = n_features == 1 and not _is_list(row)
            if not single and (not _is_list(row) or len(row) != n_features):
                return (i, step), f"must hold {n_features} values: {', '.join(features)}"
    return (), f"must have shape {shape}"


def _is_list(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim > 0  # a 0-d array is one number
    return isinstance(value, list | tuple)


def _kind(value: Any) -> str:
    """What a client sent where a list belongs, the same whatever the transport decoded."""
    if isinstance(value, np.ndarray | np.generic | int | float) and not isinstance(value, bool):
        return "a number"
    return type(value).__name__
