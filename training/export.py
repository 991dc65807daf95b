"""Export a trained model as the next integer version in TF Serving's layout, with its metadata
and its `model.tflite` (training.lite)."""

from __future__ import annotations

import json
import platform
import shutil
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import artifact
from artifact.metadata import METADATA
from training import lite
from training.fit import Trained
from training.serving import serving_model, signature

# 2: named outputs (interval, drift) in the graph, `signature` and `input.rules`
FORMAT = artifact.FORMAT


def next_version(model_dir: Path) -> int:
    """One more than the highest integer version directory present, or 1."""
    versions = [int(p.name) for p in model_dir.glob("*") if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


def libraries() -> dict[str, str]:
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__}  # fmt: skip


def metadata(trained: Trained, version: int, serving: keras.Model, name: str) -> dict:
    """metadata.json: the contract in docs/artifact.md, plus the run's config and history
    (`config.task` says what it was trained on, whatever its `name`)."""
    return {
        "format": FORMAT,
        "name": name,
        "version": version,
        **trained.metadata,
        "signature": signature(serving, trained.metadata),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": asdict(trained.config),
        "libraries": libraries(),
        "training": {
            "seconds": round(trained.seconds, 2),
            "epochs": len(trained.history.get("loss", [])),
            "best_epoch": int(np.argmin(trained.history["val_loss"])) + 1,
            "history": trained.history,
        },
    }


def export(trained: Trained, out_dir: Path, name: str | None = None) -> Path:
    """Write `<out_dir>/<name>/<version>/` atomically: built in a temp dir, then renamed in place.
    `name` is the task's unless given.

    A server watching the directory never sees a half-written version.
    """
    name = name or trained.config.task
    model_dir = out_dir / name
    model_dir.mkdir(parents=True, exist_ok=True)
    version = next_version(model_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=model_dir))
    try:
        serving = serving_model(trained.config.task, trained.model, trained.metadata)
        serving.export(str(staging), format="tf_saved_model", verbose=False)
        meta = metadata(trained, version, serving, name)
        try:
            meta["litert"] = lite.write(staging)
        except lite.LiteError as exc:  # the service then runs the SavedModel with TensorFlow
            print(f"warning: no {lite.FILE}: {exc}", file=sys.stderr)
        (staging / METADATA).write_text(json.dumps(meta, indent=2, default=plain) + "\n")
        _write_charts(trained, staging)
        target = model_dir / str(version)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_charts(trained: Trained, directory: Path) -> None:
    """PNG charts beside the model, when matplotlib (the `train` extra) is installed."""
    try:
        from training import plots
    except ImportError:
        return
    plots.write_all(trained, directory)


def plain(value):
    """JSON for NumPy scalars and arrays (`json.dumps(..., default=plain)`)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
