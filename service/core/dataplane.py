"""The one prediction path: windows in, the model's named outputs, an `Answer` out.

Every protocol decodes its request into a batch (service.core.inputs), awaits `predict`, and
encodes the `Answer` its own way. The graph computes the interval bounds and the drift scores
(see docs/artifact.md), so here they are only read: warnings are built only for windows whose
score passes the model's threshold, which for most requests is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from artifact.metadata import Spec
from service.core import context, metrics
from service.core.errors import InputError

if TYPE_CHECKING:
    from service.core.registry import Model


@dataclass(frozen=True, slots=True)
class Warning:
    """One window whose model inputs lie outside what the model saw in training."""

    window: int
    feature: str
    step: int
    value: float
    measure: str  # "z_score" or "outside_range"
    distance: float
    threshold: float
    message: str


@dataclass(frozen=True, slots=True)
class Answer:
    model: str
    version: int
    outputs: dict[str, np.ndarray]  # every output of the serving signature, batch first
    prediction: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    level: float | None
    warnings: list[Warning]


async def predict(model: Model, batch: np.ndarray) -> Answer:
    """The model's answer for `batch` `(n, window, F)`, already checked by service.core.inputs."""
    context.note_model(model.name, model.version)
    outputs = await model.predict(batch)
    return answer(model.name, model.version, model.spec, outputs)


def answer(name: str, version: int, spec: Spec, outputs: dict[str, np.ndarray]) -> Answer:
    """Read prediction, interval and warnings from the named outputs of one model call."""
    prediction = outputs[spec.prediction]
    lower = outputs[spec.lower] if spec.lower else None
    upper = outputs[spec.upper] if spec.upper else None
    value, score = outputs[spec.drift_value], outputs[spec.drift_score]
    checked = [prediction, value, score] + ([lower, upper] if lower is not None else [])
    if not all(np.isfinite(a).all() for a in checked):  # e.g. a volume near float32's max
        raise InputError((), "the input is outside what the model can handle (non-finite output)")
    found = warnings(spec, value, score)
    if found:
        metrics.WARNINGS.labels(name).inc(len(found))
    return Answer(name, version, outputs, prediction, lower, upper, spec.level, found)


def warnings(spec: Spec, value: np.ndarray, score: np.ndarray) -> list[Warning]:
    """At most one warning per window and feature: its farthest step, if past the threshold."""
    threshold = spec.drift.threshold
    distance = np.abs(score)  # (n, window, F)
    if not (distance > threshold).any():
        return []  # the common case, in one vectorised test
    measure = spec.drift.measure
    found = []
    for f, feature in enumerate(spec.features):
        steps = distance[..., f].argmax(axis=1)  # (n,)
        worst = distance[np.arange(len(distance)), steps, f]
        for w in np.flatnonzero(worst > threshold).tolist():
            step = int(steps[w])
            v, s = float(value[w, step, f]), float(score[w, step, f])
            message = _message(measure, w, feature, step, v, s, threshold, spec)
            found.append(Warning(w, feature, step, v, measure, s, threshold, message))
    return found


def _message(measure, w, feature, step, value, score, threshold, spec: Spec) -> str:
    if measure == "z_score":
        return (
            f"window {w}: {feature} (model input {value:.4g}, step {step}) has z-score "
            f"{score:.3g} against the training statistics; threshold {threshold:g}"
        )
    bounds = spec.meta.bounds.get(feature)
    trained = f" [{bounds.min:g}, {bounds.max:g}]" if bounds else ""
    return (
        f"window {w}: {feature} = {value:.4g} (step {step}) lies {score:.4g} outside the "
        f"trained range{trained}; threshold {threshold:g}"
    )
