"""Windows and targets, and the chronological split of a daily series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artifact.consistency import clean_windows
from artifact.series import curve_windows, straddling_windows  # noqa: F401 (the curve windows)


def sliding_windows(values: np.ndarray, window: int) -> np.ndarray:
    """All windows of `window` consecutive rows: (n_rows, F) -> (n_rows - window + 1, window, F)."""
    if len(values) < window:
        raise ValueError(f"need at least {window} rows, got {len(values)}")
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)  # (n, F, window)
    return np.ascontiguousarray(np.moveaxis(view, -1, 1))


@dataclass(frozen=True)
class Split:
    """Windows whose next-day target falls in one period of the series."""

    name: str
    inputs: np.ndarray  # (n, window, F) raw daily rows
    last_close: np.ndarray  # (n,) close of each window's last row
    next_close: np.ndarray  # (n,) the close that follows it: the target
    target_dates: np.ndarray  # (n,) date of that close


def next_close_windows(values: np.ndarray, close: np.ndarray, window: int):
    """Windows paired with the close of the row after each: window k covers rows k..k+window-1.

    Returns (inputs (n, window, F), last_close (n,), next_close (n,), target_row (n,)),
    n = len(values) - window; the last window has no next row, so it is not a training pair.
    """
    inputs = sliding_windows(values, window)[:-1]
    target_row = np.arange(window, len(values))
    return inputs, close[target_row - 1], close[target_row], target_row


def chronological_split(
    values: np.ndarray,
    close: np.ndarray,
    dates: np.ndarray,
    window: int,
    val_fraction: float,
    test_fraction: float,
    bad: np.ndarray | None = None,
) -> tuple[Split, Split, Split]:
    """Train/validation/test by the target's row: the periods follow one another, never mixed.

    A validation or test window may look back into the previous period's rows (that is the past,
    known at forecast time); no training window's input or target lies after the training period.
    Windows that touch a `bad` (n_rows,) row are left out of every split.
    """
    n_rows = len(values)
    test_start = round(n_rows * (1 - test_fraction))
    val_start = round(n_rows * (1 - test_fraction - val_fraction))
    inputs, last, nxt, row = next_close_windows(values, close, window)
    clean = np.ones(len(row), bool) if bad is None else clean_windows(bad, window)
    masks = {
        "train": clean & (row < val_start),
        "validation": clean & (row >= val_start) & (row < test_start),
        "test": clean & (row >= test_start),
    }
    splits = tuple(
        Split(name, inputs[m], last[m], nxt[m], dates[row[m]]) for name, m in masks.items()
    )
    for split in splits:
        if len(split.inputs) == 0:
            raise ValueError(f"the {split.name} split is empty: {n_rows} rows are too few")
    return splits  # type: ignore[return-value]


def edge_windows(rng: np.random.Generator, n: int, window: int, step: float, x_max: float):
    """`n` windows inside [0, x_max) that start or end within one window of the range's ends.

    Uniform starts cover an x less often the nearer it lies to either end (x = 0 only as the
    first step of a window that starts at 0); these fill that in, most densely at the ends
    (offsets span * u**2). Half at each end; returns (n, window, 1).
    """
    span = window * step
    offset = span * rng.uniform(0.0, 1.0, size=n) ** 2
    starts = np.where(np.arange(n) % 2 == 0, offset, x_max - span - offset)
    return (starts[:, None] + np.arange(window) * step)[..., None]
