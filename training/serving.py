"""The serving graph: the fitted model with named outputs for its interval and its drift score.

Built after fitting from the metadata the task wrote (interval quantiles, training statistics,
bounds), so the numbers in metadata.json and the numbers the graph computes are the same ones.
The service (or any TF Serving deployment of the export) reads the answer, the interval and the
out-of-distribution score from one call; it keeps no constants of its own.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

# Output roles, as metadata.json's `signature.outputs.<name>.role` names them.
PREDICTION, LOWER, UPPER = "prediction", "interval_lower", "interval_upper"
DRIFT_VALUE, DRIFT_SCORE = "drift_value", "drift_score"
ROLES = {"lower": LOWER, "upper": UPPER, "drift_value": DRIFT_VALUE, "drift_score": DRIFT_SCORE}
# The name of each task's prediction output.
PREDICTION_NAME = {"stock": "next_close", "sine": "y", "classify": "probabilities"}


@keras.saving.register_keras_serializable(package="training")
class WindowVolatility(layers.Layer):
    """Raw rows -> (batch, 1): the volatility of the window's daily log returns of close.

    decay None: their sample std (ddof 1); decay d: the zero-mean exponentially weighted
    one, weight d**k on the return k days before the last (weights sum to 1). Floored at
    `floor`. The graph's copy of training.bands.window_volatility.
    """

    def __init__(self, close_index: int, floor: float, decay: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.close_index, self.floor = int(close_index), float(floor)
        self.decay = None if decay is None else float(decay)

    def call(self, rows):  # (batch, window, F) -> (batch, 1)
        close = rows[..., self.close_index]  # (batch, window)
        returns = ops.log(close[:, 1:] / close[:, :-1])  # (batch, window - 1)
        if self.decay is not None:
            weights = ewma_weights(self.decay, returns.shape[1]).astype("float32")
            std = ops.sqrt(ops.sum(returns * returns * weights, axis=1, keepdims=True))
            return ops.maximum(std, self.floor)
        centred = returns - ops.mean(returns, axis=1, keepdims=True)
        n = ops.shape(returns)[1]
        std = ops.sqrt(
            ops.sum(centred * centred, axis=1, keepdims=True) / ops.cast(n - 1, "float32")
        )
        return ops.maximum(std, self.floor)

    def get_config(self):
        return {**super().get_config(), "close_index": self.close_index, "floor": self.floor,
                "decay": self.decay}  # fmt: skip


def ewma_weights(decay: float, n: int) -> np.ndarray:
    """(n,) weights of n daily returns, oldest first: decay**(n - 1 - k), summing to 1."""
    weights = decay ** np.arange(n - 1, -1, -1, dtype=np.float64)
    return weights / weights.sum()


@keras.saving.register_keras_serializable(package="training")
class Band(layers.Layer):
    """(prediction, scale, last close) -> (lower, upper) from quantiles fitted on validation.

    kind "log_ratio_hull_scaled": [min(p, c) * exp(lower * scale), max(p, c) * exp(upper *
    scale)], c the window's last close, scale (batch, 1): the band holds both the forecast and
    persistence's, so a forecast pushed off by unfamiliar inputs does not carry the band away;
    "log_ratio_scaled": [p * exp(lower * scale), p * exp(upper * scale)];
    "log_ratio": [p * exp(lower), p * exp(upper)]; "additive": [p + lower, p + upper], where
    `lower`/`upper` are one number, or one per step of the window (applied along axis 1).
    """

    KINDS = ("log_ratio_hull_scaled", "log_ratio_scaled", "log_ratio", "additive")

    def __init__(self, kind: str, lower, upper, **kwargs):
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise ValueError(f"unknown interval kind {kind!r}")
        self.kind = kind
        self.lower, self.upper = np.asarray(lower).tolist(), np.asarray(upper).tolist()

    def _quantile(self, value):
        q = np.asarray(value, dtype="float32")
        return q.reshape(-1, 1) if q.ndim == 1 else q  # per step: (window, 1)

    def call(self, prediction, scale=None, last=None):  # (batch, 1) or (batch, window, 1)
        lower, upper = self._quantile(self.lower), self._quantile(self.upper)
        if self.kind == "log_ratio_hull_scaled":
            low, high = ops.minimum(prediction, last), ops.maximum(prediction, last)
            return low * ops.exp(lower * scale), high * ops.exp(upper * scale)
        if self.kind == "log_ratio_scaled":
            return prediction * ops.exp(lower * scale), prediction * ops.exp(upper * scale)
        if self.kind == "log_ratio":
            return prediction * ops.exp(lower), prediction * ops.exp(upper)
        return prediction + lower, prediction + upper

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "lower": self.lower,
                "upper": self.upper}  # fmt: skip


@keras.saving.register_keras_serializable(package="training")
class ZScore(layers.Layer):
    """Signed z-score per feature against training statistics; 0 where the std is 0."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]

    def call(self, values):  # (batch, window, F) -> (batch, window, F)
        std = np.asarray(self.std, dtype="float32")
        scale = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 0.0).astype("float32")
        return (values - np.asarray(self.mean, dtype="float32")) * scale

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}


@keras.saving.register_keras_serializable(package="training")
class OutsideRange(layers.Layer):
    """How far each value lies outside [low, high] per feature: 0 inside, positive outside."""

    def __init__(self, low, high, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = [float(v) for v in low], [float(v) for v in high]

    def call(self, values):  # (batch, window, F) -> (batch, window, F)
        low = np.asarray(self.low, dtype="float32")
        high = np.asarray(self.high, dtype="float32")
        return ops.maximum(ops.maximum(low - values, values - high), 0.0)

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


def serving_model(task: str, model: keras.Model, metadata: dict) -> keras.Model:
    """The dict-output model that is exported: raw `window` in, named outputs (docs/artifact.md)."""
    rows = model.input  # (batch, window, F), raw units
    prediction = model.output
    features = metadata["input"]["features"]
    outputs = {PREDICTION_NAME[task]: prediction}
    if "interval" in metadata:
        spec = metadata["interval"]
        scale = last = None
        if spec["kind"] in ("log_ratio_scaled", "log_ratio_hull_scaled"):
            close = features.index(spec["scale"]["feature"])
            scale = WindowVolatility(close, spec["scale"]["floor"], spec["scale"].get("decay"),
                                     name="volatility")(rows)  # fmt: skip
            last = rows[:, -1, close : close + 1]  # (batch, 1): the window's last close
        band = Band(spec["kind"], spec["lower"], spec["upper"], name="band")
        lower, upper = band(prediction, scale, last)
        outputs.update(lower=lower, upper=upper)
    if metadata["drift"]["measure"] == "z_score":
        value = model.get_layer("scale_free").output  # the model inputs, before normalisation
        stats = metadata["statistics"]["inputs"]
        score = ZScore([stats[f]["mean"] for f in features], [stats[f]["std"] for f in features],
                       name="z_score")(value)  # fmt: skip
    else:
        value, bounds = rows, metadata["bounds"]
        low, high = [bounds[f]["min"] for f in features], [bounds[f]["max"] for f in features]
        score = OutsideRange(low, high, name="outside_range")(value)
    outputs.update(drift_value=layers.Identity(name="drift_value")(value), drift_score=score)
    return keras.Model(rows, outputs, name=f"{task}_serving")


def signature(serving: keras.Model, metadata: dict) -> dict:
    """metadata.json's `signature` section: the serving signature's input and named outputs."""
    window = metadata["input"]
    outputs = {}
    for name, tensor in serving.output.items():
        outputs[name] = {"shape": list(tensor.shape), "dtype": "float32",
                         "role": ROLES.get(name, PREDICTION)}  # fmt: skip
    return {
        "name": "serving_default",
        "inputs": {"window": {"shape": list(window["shape"]), "dtype": "float32"}},
        "outputs": outputs,
    }
