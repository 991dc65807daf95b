"""The end-of-run summary: each model's test metric against its naive baseline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from artifact.metadata import METADATA

if TYPE_CHECKING:  # the table needs no TensorFlow
    from training.fit import Trained


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


def markdown_table(models_dir: Path) -> str:
    """The README's quality table, read from the newest export of each model under `models_dir`."""
    lines = [
        "| model | version | test metric | model | naive baseline | baseline "
        "| 90% interval coverage |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label, key, base_key in (
        ("stock", "MAPE, next-day close", "mape", "persistence_mape"),
        ("sine", "MSE", "mse", "baseline_mse"),
        ("classify", "per-step accuracy", "accuracy", "baseline_accuracy"),
    ):
        versions = [p for p in (models_dir / name).glob("*") if p.name.isdigit()]
        if not versions:
            continue
        path = max(versions, key=lambda p: int(p.name))
        meta = json.loads((path / METADATA).read_text())
        test = meta["metrics"]["test"]
        coverage = meta.get("interval", {}).get("test_coverage")
        lines.append(
            f"| {name} | {path.name} | {label} | {_fmt(key, test[key])} | "
            f"{test.get('baseline', 'persistence: tomorrow = today')} | "
            f"{_fmt(key, test[base_key])} | {'' if coverage is None else f'{coverage:.1%}'} |"
        )
    return "\n".join(lines)


def _fmt(key: str, value: float) -> str:
    if key == "mape":
        return f"{value:.3f}%"
    return f"{value:.2%}" if key == "accuracy" else f"{value:.2e}"


if __name__ == "__main__":
    print(markdown_table(Path(sys.argv[1] if len(sys.argv) > 1 else "models")))
