"""The curve tasks' truth and windows, in plain numpy: what training fits and what scoring draws.

Training (`training.curves`, `training.windows`) and every scorecard of a curve model (the
`evaluate` command and `POST /models/{name}/evaluate`) use these, so both score the same
windows against the same truth.
"""

from __future__ import annotations

import numpy as np

from artifact import scorecard


def target(task: str, x: np.ndarray) -> np.ndarray:
    """sine: cos(x); classify: class 1 where cos(4x) < 0, else 0."""
    return np.cos(x) if task == "sine" else (np.cos(4 * x) < 0).astype("int32")


def sign_changes(x_min: float, x_max: float) -> np.ndarray:
    """The x in [x_min, x_max] where cos(4x) changes sign: pi/8 + k pi/4."""
    k = np.arange(np.ceil((x_min - np.pi / 8) / (np.pi / 4)),
                  np.floor((x_max - np.pi / 8) / (np.pi / 4)) + 1)  # fmt: skip
    return np.pi / 8 + k * np.pi / 4


def curve_windows(
    rng: np.random.Generator, n: int, window: int, step: float, x_max: float, x_min: float = 0.0
):
    """`n` windows of `window` consecutive x values, step `step`, starting anywhere in the range.

    Starts are drawn uniformly (not only on grid points) so that every window lies in
    [x_min, x_max). Returns x of shape (n, window, 1).
    """
    last_start = x_max - window * step
    if last_start <= x_min:
        raise ValueError(f"[{x_min:g}, {x_max:g}) is shorter than one window of {window} steps")
    starts = rng.uniform(x_min, last_start, size=n)
    return (starts[:, None] + np.arange(window) * step)[..., None]


def straddling_windows(
    rng: np.random.Generator, n: int, window: int, step: float, changes: np.ndarray
) -> np.ndarray:
    """`n` windows that each hold one of the points `changes` strictly inside: (n, window, 1).

    The point falls between two steps at random, anywhere from the first gap to the last.
    """
    change = rng.choice(np.asarray(changes, np.float64), size=n)
    starts = change - rng.uniform(0.0, (window - 1) * step, size=n)
    return (starts[:, None] + np.arange(window) * step)[..., None]


def scoring_windows(task: str, n: int, window: int, step: float, x_from: float, x_to: float,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The windows a curve scorecard scores: (random (n, window, 1), straddling (m, window, 1)).

    Straddling windows (classify only, n // 4 of them) each hold a sign change of cos(4x) in
    the range; ValueError if the range is shorter than one window.
    """
    rng = np.random.default_rng([seed, 7])
    x = curve_windows(rng, n, window, step, x_to, x_min=x_from)
    changes = sign_changes(x_from + step, x_to - step) if task == "classify" else x[:0, 0, 0]
    straddle = straddling_windows(rng, n // 4, window, step, changes) if len(changes) else x[:0]
    return x, straddle


def curve_card(task: str, x: np.ndarray, out: dict, straddle: np.ndarray, p_straddle,
               names: dict, threshold: float) -> dict:  # fmt: skip
    """The scorecard of a curve model from its outputs `out` on `x` (and `p_straddle`).

    `names`: the output names by role (prediction, interval_lower, interval_upper, drift_score).
    """
    score = (out[names["drift_score"]], threshold)
    if task == "sine":
        lower, upper = names.get("interval_lower"), names.get("interval_upper")
        return scorecard.sine(target(task, x), out[names["prediction"]],
                              out[lower] if lower else None, out[upper] if upper else None,
                              *score, x[:, 0, 0])  # fmt: skip
    return scorecard.classify(target(task, x)[..., 0], out[names["prediction"]], *score,
                              target(task, straddle)[..., 0], p_straddle)  # fmt: skip


def curve_data(x_from: float, x_to: float, step: float, seed: int) -> dict:
    """The scorecard's `data`: what was scored, so the same card can be drawn again."""
    return {"x_from": x_from, "x_to": x_to, "x_step": step, "seed": seed,
            "sampling": "window starts uniform in the range"}  # fmt: skip
