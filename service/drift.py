"""Out-of-distribution warnings: a request's model inputs against what the model saw in training.

Stock: the window's scale-free inputs (the numpy mirror of training's `ScaleFree` layer below),
z-scored against `statistics.inputs`, the training split's per-feature statistics of those same
inputs. Curves: x against the trained range `bounds.x`. The threshold is read from the model's
`drift` metadata section; models exported before it existed get the defaults below.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from service import metrics
from service.registry import LoadedModel
from service.schemas import InputWarning

# |z| > 6 flags about 5% of the S&P 500 training windows (the 2008 crash, half-day volumes),
# measured at export (metadata drift.train_windows_flagged): rare, never silent on a shock.
DEFAULT_Z_THRESHOLD = 6.0
# The curve models saw x only inside [min, max]: any x beyond it is extrapolation.
DEFAULT_RANGE_TOLERANCE = 0.0

PRICES = ("open", "high", "low", "close")  # as training.models.PRICES
VOLUMES = ("volume", "money")  # as training.models.VOLUMES


@dataclass(frozen=True)
class Rule:
    """How a model's inputs are compared with its training data."""

    measure: str  # "z_score" (against statistics.inputs) or "outside_range" (against bounds)
    threshold: float


def scale_free(batch: np.ndarray, features: list[str]) -> np.ndarray:
    """Mirror of training's ScaleFree layer: `(batch, window, F)` raw rows -> model inputs.

    Prices become log(p / last close of the window), volumes log((v + 1) / (window mean + 1)),
    anything else passes through. In float64, so extreme but valid rows stay finite.
    """
    rows = batch.astype(np.float64)
    last_close = rows[:, -1:, features.index("close")][..., np.newaxis]  # (batch, 1, 1)
    prices = [i for i, name in enumerate(features) if name in PRICES]
    volumes = [i for i, name in enumerate(features) if name in VOLUMES]
    out = rows.copy()
    out[..., prices] = np.log(rows[..., prices] / last_close)
    v = rows[..., volumes]  # (batch, window, n_volumes)
    out[..., volumes] = np.log((v + 1.0) / (v.mean(axis=1, keepdims=True) + 1.0))
    return out


def rule(metadata: dict[str, Any]) -> Rule:
    """The model's stored rule, else the default for its kind of input."""
    stored = metadata.get("drift") or {}
    measure = stored.get("measure") or (
        "outside_range" if metadata["input"]["features"] == ["x"] else "z_score"
    )
    default = DEFAULT_Z_THRESHOLD if measure == "z_score" else DEFAULT_RANGE_TOLERANCE
    return Rule(measure, float(stored.get("threshold", default)))


def check(model: LoadedModel, batch: np.ndarray) -> list[InputWarning]:
    """Warnings for `batch` `(n_windows, window, F)`, at most one per window and feature."""
    found = _warnings(model.metadata, model.features, batch)
    if found:
        metrics.WARNINGS.labels(model.name).inc(len(found))
    return found


def _warnings(metadata: dict[str, Any], features: list[str], batch: np.ndarray):
    how = rule(metadata)
    if how.measure == "z_score":
        stats = metadata.get("statistics", {}).get("inputs", {})
        inputs = scale_free(batch, features) if "close" in features else batch
        return _z_warnings(inputs, features, stats, how.threshold)
    return _range_warnings(batch, features, metadata.get("bounds", {}), how.threshold)


def _z_warnings(inputs: np.ndarray, features, stats, threshold) -> list[InputWarning]:
    # features without statistics have nothing to be compared with
    known = [f for f, name in enumerate(features) if stats.get(name, {}).get("std", 0) > 0]
    mean = np.array([stats[features[f]]["mean"] for f in known])
    std = np.array([stats[features[f]]["std"] for f in known])
    z_all = (inputs[..., known] - mean) / std  # (n_windows, window, n_known)
    if not np.any(np.abs(z_all) > threshold):
        return []  # the common case, in one vectorised test
    found = []
    for k, f in enumerate(known):
        name, z = features[f], z_all[..., k]  # (n_windows, window)
        for w, step in _farthest(np.abs(z), threshold):
            value, score = float(inputs[w, step, f]), float(z[w, step])
            message = (
                f"window {w}: {name} (model input {value:.4g}, step {step}) has z-score "
                f"{score:.3g} against the training statistics; threshold {threshold:g}"
            )
            found.append(InputWarning(window=w, feature=name, step=step, value=value,
                                      measure="z_score", distance=score, threshold=threshold,
                                      message=message))  # fmt: skip
    return found


def _range_warnings(batch: np.ndarray, features, bounds, tolerance) -> list[InputWarning]:
    found = []
    for f, name in enumerate(features):
        if name not in bounds:
            continue
        low, high = bounds[name]["min"], bounds[name]["max"]
        x = batch[..., f].astype(np.float64)  # (n_windows, window)
        outside = np.maximum(low - x, x - high).clip(min=0.0)
        for w, step in _farthest(outside, tolerance):
            value, distance = float(x[w, step]), float(outside[w, step])
            message = (
                f"window {w}: {name} = {value:.4g} (step {step}) lies {distance:.4g} outside the "
                f"trained range [{low:g}, {high:g}]; threshold {tolerance:g}"
            )
            found.append(InputWarning(window=w, feature=name, step=step, value=value,
                                      measure="outside_range", distance=distance,
                                      threshold=tolerance, message=message))  # fmt: skip
    return found


def _farthest(distance: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(window, step) of the farthest value of each window whose distance exceeds threshold."""
    steps = distance.argmax(axis=1)  # (n_windows,)
    worst = distance[np.arange(len(distance)), steps]
    return [(int(w), int(steps[w])) for w in np.flatnonzero(worst > threshold)]
