"""The end-of-run summary: each model's test metric against its naive baseline."""

from __future__ import annotations

from pathlib import Path

from training.train import Trained


def headline(trained: Trained) -> tuple[str, float, float]:
    """(metric name, model value, baseline value) on the test split."""
    test = trained.metadata["metrics"]["test"]
    if trained.config.task == "stock":
        return "MAPE %", test["mape"], test["persistence_mape"]
    if trained.config.task == "sine":
        return "MSE", test["mse"], test["baseline_mse"]
    return "accuracy", test["accuracy"], test["baseline_accuracy"]


def summary(rows: list[tuple[Path, Trained]]) -> str:
    lines = [f"{'model':<9} {'version':>7} {'metric':<9} {'model':>10} {'baseline':>10} "
             f"{'seconds':>8}  path"]  # fmt: skip
    for path, trained in rows:
        metric, value, baseline = headline(trained)
        lines.append(
            f"{trained.config.task:<9} {path.name:>7} {metric:<9} {value:>10.5g} "
            f"{baseline:>10.5g} {trained.seconds:>8.1f}  {path}"
        )
    return "\n".join(lines)
