"""Tiny training runs (seconds each) shared by the test packages."""

from pathlib import Path

from training.train import train_and_export

# Small enough for 2 cores, big enough that the export and its metadata are real.
TINY = {
    "stock": {"epochs": 2, "units": 4},
    "sine": {"epochs": 2, "units": 8, "train_windows": 256, "val_windows": 64, "test_windows": 64},
    "classify": {"epochs": 2, "units": 4, "train_windows": 256, "val_windows": 64,
                 "test_windows": 64},
}  # fmt: skip


def train_tiny(task: str, out_dir: Path, **overrides) -> Path:
    """Train and export a tiny `task` model under `out_dir`; returns its version directory."""
    return train_and_export(task, out_dir, verbose=0, **{**TINY[task], **overrides})
