"""Scorecard definitions: each model's metric against its naive baseline, in plain numpy.

No TensorFlow, pandas or scipy here: the service can score with the same definitions. Inputs
are the serving signature's outputs and the truth; every function returns JSON-ready values.
"""

from __future__ import annotations

import math

import numpy as np

# A window whose per-window MSE exceeds this is counted (the sine target: none should).
SINE_WINDOW_MSE_BOUND = 1e-3
MIN_TARGETS = 30  # fewer scored days than this say nothing about a stock model


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error, in percent."""
    return float(np.mean(np.abs(forecast - actual) / np.abs(actual)) * 100)


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.sqrt(np.mean((forecast - actual) ** 2)))


def warned(drift_score: np.ndarray, threshold: float) -> np.ndarray:
    """(n,) whether the service would warn about each window: any |score| above the threshold."""
    return np.abs(drift_score).reshape(len(drift_score), -1).max(axis=1) > threshold


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    return float(np.mean((actual >= lower) & (actual <= upper)))


def diebold_mariano(loss_model: np.ndarray, loss_baseline: np.ndarray, horizon: int = 1) -> dict:
    """Diebold-Mariano test of equal expected loss, with the Harvey-Leybourne-Newbold correction.

    d = loss_model - loss_baseline; the statistic is mean(d) over its standard error from the
    autocovariances of d up to lag horizon - 1, scaled by HLN's small-sample factor and compared
    with Student's t on n - 1 degrees of freedom. Negative: the model's loss is lower.
    """
    d = np.asarray(loss_model, np.float64) - np.asarray(loss_baseline, np.float64)
    n, h = len(d), horizon
    centred = d - d.mean()
    gamma = [float(centred[k:] @ centred[: n - k]) / n for k in range(h)]
    variance = (gamma[0] + 2 * sum(gamma[1:])) / n
    if variance <= 0:
        return {"statistic": 0.0, "p_value": 1.0, "mean_difference": float(d.mean()), "n": n}
    dm = float(d.mean()) / math.sqrt(variance)
    hln = dm * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    # the test assumes d uncorrelated beyond lag horizon - 1; this shows how far that holds
    lag1 = float(centred[1:] @ centred[:-1]) / n / gamma[0] if n > 1 else 0.0
    return {"statistic": hln, "p_value": t_two_sided_p(hln, n - 1),
            "mean_difference": float(d.mean()), "n": n, "df": n - 1,
            "lag1_autocorrelation": lag1}  # fmt: skip


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom."""
    return _betainc(df / 2, 0.5, df / (df + t * t))


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))  # fmt: skip
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300

    def guard(v: float) -> float:
        return v if abs(v) > tiny else tiny

    c, d = 1.0, 1.0 / guard(1 - (a + b) * x / (a + 1))
    result = d
    for m in range(1, 500):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        for numerator in (even, odd):
            d = 1.0 / guard(1 + numerator * d)
            c = guard(1 + numerator / c)
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result


# Coverage over any run of this many scored days: a year of trading, where a band that is
# right on average but wrong in every crisis shows.
ROLLING_DAYS = 250


def stock(actual, last_close, forecast, lower, upper, drift_score, threshold, level,
          years=None) -> dict:  # fmt: skip
    """Next-close forecasts (n,) against persistence (tomorrow = today) on the same days.

    `years` (n,): the calendar year of each target, for coverage by year.
    """
    actual, last, forecast = (np.asarray(v, np.float64) for v in (actual, last_close, forecast))
    lower, upper = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    ape = {"model": np.abs(forecast - actual) / actual * 100,
           "persistence": np.abs(last - actual) / actual * 100}  # fmt: skip
    squared = {"model": (forecast - actual) ** 2, "persistence": (last - actual) ** 2}
    moved = actual != last
    up = actual > last
    flagged = warned(drift_score, threshold)
    model_mape, naive_mape = float(ape["model"].mean()), float(ape["persistence"].mean())
    return {
        "windows": len(actual),
        "mape": model_mape,
        "persistence_mape": naive_mape,
        "mape_ratio": model_mape / naive_mape if naive_mape > 0 else None,  # a flat series: None
        "rmse": rmse(actual, forecast),
        "persistence_rmse": rmse(actual, last),
        "diebold_mariano": {
            "loss": "absolute percentage error (the loss MAPE averages)",
            "correction": "Harvey-Leybourne-Newbold, t with n - 1 df, horizon 1",
            **diebold_mariano(ape["model"], ape["persistence"]),
            "squared_error": diebold_mariano(squared["model"], squared["persistence"]),
        },
        "directional_accuracy": {
            "model": float(np.mean((forecast[moved] > last[moved]) == up[moved])) if any(moved)
            else None,
            "always_up": float(np.mean(up[moved])) if any(moved) else None,
            "days": int(moved.sum()),
        },
        "interval": _interval_card(actual, lower, upper, forecast, level, years),
        "warned_windows": float(np.mean(flagged)),
        **({} if years is None else {"warned_by_year": {
            str(y): int(flagged[np.asarray(years) == y].sum()) for y in np.unique(years)}}),
    }  # fmt: skip


def _interval_card(actual, lower, upper, forecast, level, years) -> dict:
    inside = (actual >= lower) & (actual <= upper)
    card = {"level": level, "coverage": float(inside.mean()),
            "mean_width_percent": float(np.mean((upper - lower) / forecast) * 100)}  # fmt: skip
    if len(inside) >= ROLLING_DAYS:
        # whole counts of days inside, divided once: exact on every CPU (a float convolution
        # gives 1.0000000000000004 for a window entirely inside on some BLAS kernels)
        count = np.concatenate([[0], np.cumsum(inside, dtype=np.int64)])
        rolling = (count[ROLLING_DAYS:] - count[:-ROLLING_DAYS]) / ROLLING_DAYS
        card[f"rolling_{ROLLING_DAYS}_days"] = {"min": float(rolling.min()),
                                                "max": float(rolling.max())}  # fmt: skip
    if years is not None:
        years = np.asarray(years)
        card["by_year"] = {str(y): float(inside[years == y].mean()) for y in np.unique(years)}
    return card


def sine(truth, y, lower, upper, drift_score, threshold, starts) -> dict:
    """cos(x) windows (n, window, 1) against predicting 0; every window's own MSE too."""
    truth, y = np.asarray(truth, np.float64), np.asarray(y, np.float64)
    per_window = np.mean((y - truth) ** 2, axis=(1, 2))  # (n,)
    worst = int(per_window.argmax())
    card = {
        "windows": len(truth),
        "mse": float(per_window.mean()),
        "baseline": "predict 0 (the mean of cos)",
        "baseline_mse": float(np.mean(truth**2)),
        "worst_window": {"mse": float(per_window[worst]), "x_start": float(starts[worst])},
        "windows_over_bound": {"bound": SINE_WINDOW_MSE_BOUND,
                               "share": float(np.mean(per_window > SINE_WINDOW_MSE_BOUND))},
        "max_abs_error": float(np.abs(y - truth).max()),
        "warned_windows": float(np.mean(warned(drift_score, threshold))),
    }  # fmt: skip
    if lower is not None:
        card["interval"] = {"coverage": coverage(truth, lower, upper)}
    return card


def classify(truth, probabilities, drift_score, threshold, straddle_truth, straddle_p) -> dict:
    """Per-step classes (n, window) against always answering the majority class of the truth.

    `straddle_*`: extra windows that each hold a sign change of the curve, where a boundary
    placed a step early or late shows.
    """
    truth = np.asarray(truth)
    predicted = np.asarray(probabilities).argmax(axis=-1)  # (n, window)
    majority = int(np.mean(truth) >= 0.5)
    card = {
        "windows": len(truth),
        "accuracy": float(np.mean(predicted == truth)),
        "baseline": "always the majority class of these windows",
        "baseline_accuracy": float(np.mean(truth == majority)),
        "window_all_correct": float(np.mean((predicted == truth).all(axis=1))),
        "by_step": np.mean(predicted == truth, axis=0).tolist(),
        "warned_windows": float(np.mean(warned(drift_score, threshold))),
    }
    if straddle_truth is not None and len(straddle_truth):
        hit = np.asarray(straddle_p).argmax(axis=-1) == np.asarray(straddle_truth)
        majority = int(np.mean(straddle_truth) >= 0.5)
        card["straddling"] = {
            "windows": len(straddle_truth),
            "accuracy": float(hit.mean()),
            "baseline_accuracy": float(np.mean(straddle_truth == majority)),
        }
    return card
