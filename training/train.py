"""The entry point: train one task with its config, then export it. Orchestration only."""

from __future__ import annotations

import time
from pathlib import Path

from training.config import default_config
from training.curves import train_curve
from training.export import export
from training.fit import Trained, seed_everything
from training.stock import train_stock


def train(task: str, csv: Path | None = None, verbose: int = 1, strict: bool = False,
          **overrides) -> Trained:  # fmt: skip
    """Train one task with its default config changed by `overrides` (None values ignored).

    `strict`: refuse a CSV with an inconsistent row instead of leaving its windows out."""
    config = default_config(task).replace(**overrides)
    seed_everything(config.seed)
    started = time.perf_counter()
    if task == "stock":
        trained = train_stock(config, csv, verbose, strict)
    else:
        trained = train_curve(config, verbose)
    trained.seconds = time.perf_counter() - started
    return trained


def train_and_export(task: str, out_dir: Path, csv: Path | None = None, name: str | None = None,
                     **overrides) -> Path:  # fmt: skip
    """Train `task` and export it as the next version under `out_dir/<name>/` (the task's name
    unless given); returns that dir."""
    return export(train(task, csv=csv, **overrides), Path(out_dir), name)
