"""PNG charts written beside each export: test-period fit, and loss by epoch."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np

from training.train import Trained

# The stock chart shows the end of the test period, where single days can still be told apart.
LAST_DAYS = 120


def write_all(trained: Trained, directory: Path) -> list[Path]:
    """predictions.png and loss.png in `directory`; returns their paths."""
    draw = {"stock": _stock, "sine": _sine, "classify": _classify}[trained.config.task]
    paths = [_save(draw(trained), directory / "predictions.png"),
             _save(_loss(trained), directory / "loss.png")]  # fmt: skip
    return paths


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _stock(trained: Trained):
    c = {k: v[-LAST_DAYS:] for k, v in trained.curves.items()}
    days = np.arange(len(c["actual"]))
    test = trained.metadata["metrics"]["test"]
    level = trained.metadata["interval"]["level"]
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.fill_between(days, c["lower"], c["upper"], alpha=0.25, label=f"{level:.0%} interval")
    axis.plot(days, c["actual"], color="black", lw=1.2, label="actual close")
    axis.plot(days, c["forecast"], color="tab:blue", lw=1.0, label="forecast")
    ticks = days[:: max(1, len(days) // 6)]
    axis.set_xticks(ticks, [c["dates"][i] for i in ticks], fontsize=8)
    axis.set_title(f"Next-day close, last {len(days)} test days: MAPE {test['mape']:.3f}% "
                   f"vs persistence {test['persistence_mape']:.3f}%", fontsize=10)  # fmt: skip
    axis.legend(fontsize=8)
    return figure


def _sine(trained: Trained):
    c = trained.curves
    interval = trained.metadata["interval"]
    fitted = c["output"][:, 0]
    # per-step bands repeat window after window along the grid
    steps = len(fitted) // len(np.atleast_1d(interval["lower"]))
    lower, upper = (np.tile(interval[k], steps) if np.ndim(interval[k]) else interval[k]
                    for k in ("lower", "upper"))  # fmt: skip
    figure, axis = plt.subplots(figsize=(9, 3.5))
    axis.fill_between(c["x"], fitted + lower, fitted + upper, alpha=0.3,
                      label=f"{interval['level']:.0%} interval")  # fmt: skip
    axis.plot(c["x"], c["truth"], color="black", lw=1.2, label="cos(x)")
    axis.plot(c["x"], fitted, color="tab:blue", lw=1.0, ls="--", label="model")
    mse = trained.metadata["metrics"]["test"]["mse"]
    axis.set_title(f"cos(x) over the training range, consecutive windows of 20: test MSE {mse:.2e}",
                   fontsize=10)  # fmt: skip
    axis.set_xlabel("x")
    axis.legend(fontsize=8)
    return figure


def _classify(trained: Trained):
    c = trained.curves
    figure, axis = plt.subplots(figsize=(9, 3.5))
    axis.plot(c["x"], c["truth"], color="black", lw=1.2, label="true class (cos(4x) < 0)")
    axis.plot(c["x"], c["output"][:, 1], color="tab:orange", lw=1.0, label="p(class 1)")
    accuracy = trained.metadata["metrics"]["test"]["accuracy"]
    axis.set_title(f"Sign of cos(4x): test accuracy {accuracy:.2%} per step", fontsize=10)
    axis.set_xlabel("x")
    axis.legend(fontsize=8)
    return figure


def _loss(trained: Trained):
    history = trained.history
    epochs = np.arange(1, len(history["loss"]) + 1)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(epochs, history["loss"], label="training")
    axis.plot(epochs, history["val_loss"], label="validation")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_title(f"{trained.config.task}: loss by epoch", fontsize=10)
    axis.legend(fontsize=8)
    return figure
