"""Prediction intervals from the residual quantiles stored in the model's `interval` metadata.

Training fits the quantiles on the validation split and measures their coverage on the test
split (`interval.test_coverage`). `kind: log_ratio` (stock): [p * exp(lower), p * exp(upper)];
`kind: additive` (sine): [p + lower, p + upper], where lower and upper may be one number or one
per step of the window (`per: step`), applied along the last axis.
"""

from typing import Any

import numpy as np

from service.schemas import Interval


def bounds(metadata: dict[str, Any], predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends, shaped like `predictions`."""
    spec = metadata["interval"]
    p = predictions.astype(np.float64)
    if spec["kind"] == "log_ratio":
        return p * np.exp(spec["lower"]), p * np.exp(spec["upper"])
    if spec["kind"] == "additive":
        return p + np.asarray(spec["lower"]), p + np.asarray(spec["upper"])
    raise ValueError(f"unknown interval kind {spec['kind']!r}")


def around(metadata: dict[str, Any], predictions: np.ndarray) -> list | None:
    """One Interval per prediction, nested like `predictions`; None if the model has none."""
    if "interval" not in metadata:
        return None
    lower, upper = bounds(metadata, predictions)
    level = float(metadata["interval"]["level"])
    flat = [
        Interval(lower=lo, upper=hi, level=level)
        for lo, hi in zip(lower.ravel().tolist(), upper.ravel().tolist(), strict=True)
    ]
    if predictions.ndim == 1:
        return flat
    width = predictions.shape[-1]
    return [flat[i : i + width] for i in range(0, len(flat), width)]
