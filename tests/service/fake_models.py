"""Tiny contract-conformant artifacts (docs/artifact.md) with outputs the tests can predict."""

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STOCK_FEATURES = ["open", "high", "low", "close", "volume"]
WINDOW = 20


def _stock_model():
    """Predicts the window's last close, so predictions[k] == rows[window-1+k].close exactly."""
    import keras

    close = STOCK_FEATURES.index("close")
    window = keras.Input(shape=(WINDOW, len(STOCK_FEATURES)), name="window")
    last_close = keras.layers.Lambda(lambda w: w[:, -1, close : close + 1])(window)  # (batch, 1)
    return keras.Model(window, last_close)


def _sine_model():
    """An untrained tiny LSTM: real variables, the contract's (batch, 20, 1) output."""
    import keras

    keras.utils.set_random_seed(0)
    window = keras.Input(shape=(WINDOW, 1), name="window")
    hidden = keras.layers.LSTM(4, return_sequences=True)(window)
    return keras.Model(window, keras.layers.Dense(1)(hidden))  # (batch, 20, 1)


def _classify_model():
    """Exact rule: p(class 1) = sigmoid(-50 cos(4x)), so class 1 where cos(4x) < 0."""
    import keras
    from keras import ops

    def probabilities(x):
        p1 = ops.sigmoid(-50.0 * ops.cos(4.0 * x))
        return ops.concatenate([1.0 - p1, p1], axis=-1)  # (batch, window, 2)

    window = keras.Input(shape=(WINDOW, 1), name="window")
    return keras.Model(window, keras.layers.Lambda(probabilities)(window))


STOCK_RULES = {
    "positive": ["open", "high", "low", "close"],
    "non_negative": ["volume"],
    "log_ratio": {"features": ["open", "high", "low", "close"], "denominator": "close"},
    "ordered": [["low", "high"]],
}
# Wide enough that no stock request is out of range; x in [0, 1] as the old fakes had it
BOUNDS = {"stock": (0.0, 1e15), "sine": (0.0, 1.0), "classify": (0.0, 1.0)}


def metadata(name: str, task: str, features: list[str], output_shape: list) -> dict[str, Any]:
    """A metadata.json holding every key docs/artifact.md lists (format 2, no interval)."""
    low, high = BOUNDS[name]
    return {
        "format": 2,
        "name": name,
        "version": 1,
        "task": task,
        "description": f"fake {name} model for the service tests",
        "created_at": "2026-01-01T00:00:00+00:00",
        "input": {
            "features": features,
            "window": WINDOW,
            "shape": [None, WINDOW, len(features)],
            "dtype": "float32",
            "rules": STOCK_RULES if name == "stock" else {},
        },
        "output": {"shape": output_shape, "names": ["y"], "description": "fake"},
        "bounds": {f: {"min": low, "max": high} for f in features},
        "drift": {
            "measure": "outside_range",
            "threshold": 0.0,
            "against": "bounds",
            "output": "drift_score",
        },
        "statistics": {},
        "data": {"source": "none", "sha256": "0" * 64, "rows": 0, "splits": {}},
        "config": {},
        "libraries": {},
        "metrics": {"test": {"fake_metric": 0.0, "baseline": 0.0}},
        "training": {"seconds": 0.0, "epochs": 0, "history": {"loss": [], "val_loss": []}},
    }


FAKES = {
    "stock": (_stock_model, "regression", STOCK_FEATURES, [None, 1]),
    "sine": (_sine_model, "curve", ["x"], [None, WINDOW, 1]),
    "classify": (_classify_model, "classification", ["x"], [None, WINDOW, 2]),
}


def write_fake_model(models_dir: Path, name: str, version: int = 1) -> Path:
    """Export one fake model to `<models_dir>/<name>/<version>/` with its metadata."""
    from training.serving import serving_model, signature

    build, task, features, output_shape = FAKES[name]
    path = models_dir / name / str(version)
    meta = metadata(name, task, features, output_shape) | {"version": version}
    serving = serving_model(name, build(), meta)  # named outputs, as training exports them
    serving.export(str(path), format="tf_saved_model", verbose=False)
    meta["signature"] = signature(serving, meta)
    (path / "metadata.json").write_text(json.dumps(meta, indent=2))
    return path


def write_fake_models(models_dir: Path) -> Path:
    """All three fakes, version 1 each; returns the models directory."""
    for name in FAKES:
        write_fake_model(models_dir, name)
    return models_dir


def sine_grid(start: int) -> list[float]:
    """20 consecutive x values of the sine training grid, from grid index `start`."""
    return [k / (10 * math.pi) for k in range(start, start + WINDOW)]


def copy_models(source: Path, target: Path, names: list[str]) -> Path:
    """A models directory holding only `names`, copied from `source`."""
    for name in names:
        shutil.copytree(source / name, target / name)
    return target
