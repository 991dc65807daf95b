"""Typed, frozen training configs with per-task defaults; the resolved one goes in the export."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

TASKS = ("stock", "sine", "classify")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Defaults differ per task (see DEFAULTS)."""

    task: str
    window: int = 20
    units: int = 32
    epochs: int = 60
    batch_size: int = 64
    learning_rate: float = 3e-3
    patience: int = 6
    seed: int = 0
    # stock: chronological split of the series by the date of each window's target.
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    # sine / classify: windows are drawn at random start points on the curve's x range.
    x_step: float = 0.0
    x_points: int = 1000
    train_windows: int = 8000
    val_windows: int = 1000
    test_windows: int = 2000
    # classify: this share more windows (train, validation) straddle a sign change of cos(4x).
    boundary_windows: float = 0.0
    # this share more training windows start within one window of either end of the range.
    edge_windows: float = 0.0
    # prediction intervals: residual quantiles measured on the validation split.
    interval_level: float = 0.9
    tensorboard: str | None = None  # write TensorBoard logs under this directory

    @property
    def x_max(self) -> float:
        """Upper (exclusive) end of the article's x range: x_points grid steps."""
        return self.x_points * self.x_step

    def replace(self, **changes: object) -> TrainConfig:
        """A copy with `changes` applied; None values are ignored (unset CLI options)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


DEFAULTS: dict[str, TrainConfig] = {
    "stock": TrainConfig(task="stock", units=32, epochs=40, learning_rate=1e-3, patience=5),
    "sine": TrainConfig(
        task="sine",
        units=64,
        epochs=80,
        batch_size=128,
        x_step=1 / (10 * math.pi),
        edge_windows=0.4,
    ),
    "classify": TrainConfig(
        task="classify",
        units=16,
        epochs=60,
        batch_size=128,
        x_step=1 / (200 * math.pi),
        train_windows=4000,
        boundary_windows=0.5,
    ),
}


def default_config(task: str) -> TrainConfig:
    """The default config of a task; raises ValueError naming the known tasks."""
    if task not in DEFAULTS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return DEFAULTS[task]
