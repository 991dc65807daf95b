"""The native protocol: a model's own request and answer shapes, picked by its task.

The task comes from the model's metadata (artifact.metadata.Task), so any model a user
exports serves here under its own name: "regression" takes daily rows and answers one value
per sliding window (`predictions`, `next_close`); "curve" takes x values (one window or
several) and answers `y` per x; "classification" takes x values and answers `classes` and
`probabilities` per x. Each answer carries `intervals` where the model has them and the
`warnings` (service.protocols.warnings, the form every protocol carries).
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from service.core import dataplane, inputs
from service.core.dataplane import Answer
from service.core.errors import InputError
from service.protocols.errors import Unimplemented
from service.protocols.warnings import as_list as warnings_of

if TYPE_CHECKING:
    from service.core.registry import Model


async def predict(model: Model, given: Any) -> dict[str, Any]:
    """The answer for `given`: daily rows (objects with the features as attributes) for a
    regression, else `x` (one window, or a list of windows)."""
    task = model.spec.task
    if task == "regression":
        return await regression(model, given)
    nested, answer = await _curve(model, given)
    return curve(answer, nested) if task == "curve" else classification(answer, nested)


async def regression(model: Model, rows: list) -> dict[str, Any]:
    """Next value for every sliding window of the rows (oldest first)."""
    batch = inputs.stock_table(model.spec, table(rows, model.spec.features))
    answer = await dataplane.predict(model, batch)
    predictions = answer.prediction[:, 0].tolist()  # (n_windows, 1) -> n_windows
    return {**_head(answer), "predictions": predictions, "next_close": predictions[-1],
            "intervals": _intervals(answer), "warnings": warnings_of(answer)}  # fmt: skip


def curve(answer: Answer, nested: bool) -> dict[str, Any]:
    """Fitted value for every x, nested like x."""
    y = answer.prediction[..., 0]  # (n_windows, window, 1) -> (n_windows, window)
    intervals = _intervals(answer)
    return {**_head(answer), "y": y.tolist() if nested else y[0].tolist(),
            "intervals": intervals if nested or intervals is None else intervals[0],
            "warnings": warnings_of(answer)}  # fmt: skip


def classification(answer: Answer, nested: bool) -> dict[str, Any]:
    """Class and every class's probability for every x, nested like x."""
    probabilities = answer.prediction  # (n_windows, window, n_classes)
    classes = probabilities.argmax(axis=-1)  # (n_windows, window)
    if not nested:
        probabilities, classes = probabilities[0], classes[0]
    return {**_head(answer), "classes": classes.tolist(),
            "probabilities": probabilities.tolist(), "warnings": warnings_of(answer)}  # fmt: skip


def table(rows: list, features: tuple[str, ...]) -> np.ndarray:
    """`(n_rows, F)` float64, columns in the model's feature order."""
    try:
        found = np.array(list(map(attrgetter(*features), rows)), dtype=np.float64)
    except AttributeError:  # a feature no daily row carries: a model trained on other columns
        fields = type(rows[0]).model_fields
        unknown = ", ".join(f for f in features if f not in fields)
        raise Unimplemented(
            f"the model reads features daily rows do not carry ({unknown}): "
            "send its windows to /v1 or /v2 instead"
        ) from None
    if found.ndim == 1:  # one feature: attrgetter gives the value itself
        found = found[:, np.newaxis]
    if np.isnan(found).any():  # a None (JSON numbers are finite): an optional field the model needs
        r, f = (int(i) for i in np.argwhere(np.isnan(found))[0])
        raise InputError(("rows", r, features[f]), "is required: the model uses it")
    return found


async def _curve(model: Model, x: list) -> tuple[bool, Answer]:
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
    if answer.lower is None or answer.upper is None:
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
