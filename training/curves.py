"""The article's two curve tasks: fit cos(x), and classify the sign of cos(4x), per step."""

from __future__ import annotations

import numpy as np

from artifact.series import curve_windows, sign_changes, straddling_windows, target
from training.config import TrainConfig
from training.fit import Trained, fit
from training.models import classify_model, sine_model
from training.windows import edge_windows

# The article's lesson: the same fitted curve, started far outside the training range.
FAR_START = 3000 / (10 * np.pi)


def train_curve(config: TrainConfig, verbose: int) -> Trained:
    """Train on random windows of the range; validate and test on fresh, differently seeded ones."""
    task, window = config.task, config.window
    x = _windows(config)
    y = {k: target(task, v.astype("float64")) for k, v in x.items()}
    y = {k: v.astype("float32") if task == "sine" else v[..., 0] for k, v in y.items()}
    build = sine_model if task == "sine" else classify_model
    model = build(x["t"], config.units)
    loss = "mse" if task == "sine" else "sparse_categorical_crossentropy"
    history = fit(model, (x["t"], y["t"]), (x["v"], y["v"]), config, loss, verbose)
    out = {k: model.predict(x[k], batch_size=1024, verbose=0) for k in x if k != "t"}
    if task == "sine":
        evaluation = _sine_evaluation(config, model, x, y, out)
    else:
        evaluation = _classify_evaluation(config, y, out)
    metadata = {
        "input": {"features": ["x"], "window": window, "shape": [None, window, 1],
                  "dtype": "float32", "rules": {}},
        "bounds": {"x": {"min": 0.0, "max": float(config.x_max)}},
        "statistics": {"inputs": {"x": {"mean": float(x["t"].mean()), "std": float(x["t"].std()),
                       "min": float(x["t"].min()), "max": float(x["t"].max())}},
                       "computed_on": "train"},
        # the service warns on any x outside `bounds`: the article's far window never fits
        "drift": {"measure": "outside_range", "threshold": 0.0, "against": "bounds",
                  "output": "drift_score"},
        "data": {"source": f"generated: {'cos(x)' if task == 'sine' else 'sign of cos(4x)'}",
                 "x_step": config.x_step, "x_range": [0.0, float(config.x_max)],
                 "windows": {"train": len(x["t"]), "validation": len(x["v"]),
                             "test": len(x["s"])},
                 "sampling": "window starts uniform in the range, not only on grid points"
                 + (f"; plus {config.edge_windows:.0%} more training windows at the ends "
                    "of the range" if config.edge_windows else "")
                 + (f"; plus {config.boundary_windows:.0%} more train and validation windows "
                    "straddling a sign change" if "b" in x else "")},
        **evaluation,
    }  # fmt: skip
    grid = _grid_curves(config, model)
    return Trained(config, model, metadata, history, curves=grid)


def _windows(config: TrainConfig) -> dict[str, np.ndarray]:
    """Train ("t"), validation ("v") and test ("s") windows, each from its own seeded stream.

    `edge_windows` more training windows start within one window of either end of the range.
    classify: `boundary_windows` more of each split straddle a sign change of cos(4x), where
    the class boundary has to be placed to a fraction of a step; "b" holds the test ones.
    """
    window, step, x_max = config.window, config.x_step, config.x_max
    rng = {name: np.random.default_rng([config.seed, i]) for i, name in enumerate("tvsb")}
    n = {"t": config.train_windows, "v": config.val_windows, "s": config.test_windows}
    x = {k: curve_windows(rng[k], n[k], window, step, x_max) for k in n}
    if config.edge_windows > 0:
        extra = edge_windows(rng["t"], round(config.edge_windows * n["t"]), window, step, x_max)
        x["t"] = np.concatenate([x["t"], extra])
    if config.task == "classify" and config.boundary_windows > 0:
        changes = sign_changes(0.0, x_max)
        extra = {k: straddling_windows(rng[k], round(config.boundary_windows * n[k]), window,
                                       step, changes) for k in ("t", "v")}  # fmt: skip
        x = {**x, "t": np.concatenate([x["t"], extra["t"]]),
             "v": np.concatenate([x["v"], extra["v"]]),
             "b": straddling_windows(rng["b"], n["s"] // 4, window, step, changes)}  # fmt: skip
    return {k: v.astype("float32") for k, v in x.items()}


def _sine_evaluation(config, model, x, y, out) -> dict:
    residual = y["v"] - out["v"]  # (n, window, 1)
    level = config.interval_level
    # One band per step of the window: the first and last steps err more than the middle ones,
    # and a single band would cover the middle too widely and the ends too narrowly.
    lower, upper = np.quantile(residual[..., 0], [(1 - level) / 2, (1 + level) / 2], axis=0)
    test_residual = y["s"][..., 0] - out["s"][..., 0]  # (n, window)
    per_window = np.mean(test_residual**2, axis=1)  # (n,)
    worst = int(per_window.argmax())
    far = curve_windows(np.random.default_rng(config.seed), 200, config.window, config.x_step,
                        config.x_max) + FAR_START  # fmt: skip
    far_mse = float(np.mean((model.predict(far.astype("float32"), verbose=0) - np.cos(far)) ** 2))
    return {
        "task": "curve",
        "description": "cos(x) at every step of a window of 20 consecutive x values.",
        "output": {"shape": [None, config.window, 1], "names": ["y"],
                   "description": "fitted cos(x), one per input x"},
        "metrics": {
            "test": {"windows": len(y["s"]), "mse": float(np.mean(test_residual**2)),
                     "baseline": "predict 0 (the mean of cos)",
                     "baseline_mse": float(np.mean(y["s"] ** 2)),
                     "worst_window": {"mse": float(per_window[worst]),
                                      "x_start": float(x["s"][worst, 0, 0])}},
            "validation": {"windows": len(y["v"]), "mse": float(np.mean(residual**2)),
                           "worst_window_mse": float(np.mean(residual**2, axis=(1, 2)).max())},
            "far_out_of_range": {"x_start": FAR_START, "mse": far_mse,
                                 "note": "the article's lesson: no fit far from the training range",
                                 },
        },
        "interval": {"level": level, "kind": "additive", "per": "step",
                     "lower": lower.tolist(), "upper": upper.tolist(), "fitted_on": "validation",
                     "test_coverage": float(np.mean((test_residual >= lower)
                                                    & (test_residual <= upper)))},
    }  # fmt: skip


def _classify_evaluation(config, y, out) -> dict:
    test_classes = out["s"].argmax(axis=-1)
    majority = int(np.mean(y["t"]) >= 0.5)
    straddling = {}
    if "b" in out:
        straddling = {"straddling": {
            "windows": len(y["b"]), "accuracy": float(np.mean(out["b"].argmax(-1) == y["b"])),
            "note": "test windows that each hold a sign change of cos(4x)"}}  # fmt: skip
    return {
        "task": "classification",
        "description": "Per-step class of x: 1 where cos(4x) < 0, else 0.",
        "output": {"shape": [None, config.window, 2], "names": ["p_class_0", "p_class_1"],
                   "description": "softmax probabilities per step"},
        "metrics": {
            "test": {"windows": len(y["s"]), "accuracy": float(np.mean(test_classes == y["s"])),
                     "baseline": "always the training split's majority class",
                     "baseline_accuracy": float(np.mean(y["s"] == majority)),
                     "by_step": np.mean(test_classes == y["s"], axis=0).tolist(),
                     **straddling},
            "validation": {"windows": len(y["v"]),
                           "accuracy": float(np.mean(out["v"].argmax(-1) == y["v"]))},
        },
    }  # fmt: skip


def _grid_curves(config: TrainConfig, model) -> dict[str, np.ndarray]:
    """The model along the whole x grid (consecutive windows), for the charts."""
    n = config.x_points // config.window
    x = (np.arange(n * config.window) * config.x_step).reshape(n, config.window, 1)
    out = model.predict(x.astype("float32"), verbose=0)
    return {"x": x.ravel(), "truth": target(config.task, x).ravel().astype("float64"),
            "output": out.reshape(n * config.window, -1)}  # fmt: skip
