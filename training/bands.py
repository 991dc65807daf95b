"""The stock model's prediction interval: each window's recent volatility, and a band around
the forecast and the last close fitted by split conformal prediction on validation.

The serving graph computes the same (training.serving's `WindowVolatility` and `Band`); these
numpy copies fit the quantiles and measure the coverage that metadata.json records.
"""

from __future__ import annotations

import numpy as np

from training.serving import ewma_weights

# The interval's volatility: exponentially weighted, half-life about 4 trading days. Chosen on
# the training period only (docs/models.md), among 0.80-0.97: the highest lowest coverage over
# any 250 training days; a 20-day plain std reacts to a new regime a fortnight late.
VOLATILITY_DECAY = 0.85


def window_volatility(inputs: np.ndarray, close_index: int, floor: float = 0.0,
                      decay: float | None = None) -> np.ndarray:  # fmt: skip
    """(n,) each window's volatility of daily log returns of close, at least `floor`.

    decay None: sample standard deviation (ddof 1); decay d: zero-mean exponentially weighted,
    weight d**k on the return k days before the last (training.serving.ewma_weights).
    """
    close = inputs[..., close_index].astype(np.float64)  # (n, window)
    returns = np.diff(np.log(close), axis=1)  # (n, window - 1)
    if decay is None:
        return np.maximum(returns.std(axis=1, ddof=1), floor)
    weights = ewma_weights(decay, returns.shape[1])
    return np.maximum(np.sqrt((returns**2) @ weights), floor)


def band(interval: dict, close_index: int, inputs, last_close, forecast):
    """(lower, upper) in price units, as the serving graph's Band computes them."""
    spec = interval["scale"]
    scale = window_volatility(inputs, close_index, spec["floor"], spec.get("decay"))
    if interval["kind"] == "log_ratio_hull_scaled":
        low, high = np.minimum(forecast, last_close), np.maximum(forecast, last_close)
    else:
        low = high = forecast
    return low * np.exp(interval["lower"] * scale), high * np.exp(interval["upper"] * scale)


def fit_interval(level: float, close_index: int, splits, forecast: dict) -> dict:
    """Split conformal on validation: ranks of the close's log distance outside [min(p, c),
    max(p, c)] (p the forecast, c the last close), scaled by each window's own volatility.

    A band of one fixed width, fitted on a calm period, covers too little in a turbulent one
    (70% at 90% on NASDAQ 1999-2018); dividing by the window's recent (exponentially weighted)
    volatility makes the residuals comparable across calm and turbulent windows and markets.
    Holding persistence's close as well as the forecast keeps the band where the market is when
    unfamiliar inputs push the forecast off (the forecast itself is unchanged).
    """
    train, val, test = splits
    floor = float(window_volatility(train.inputs, close_index, decay=VOLATILITY_DECAY).min())
    scale = window_volatility(val.inputs, close_index, floor, VOLATILITY_DECAY)
    p, c = forecast["validation"], val.last_close
    below = np.sort(np.log(val.next_close / np.minimum(p, c)) / scale)
    above = np.sort(np.log(val.next_close / np.maximum(p, c)) / scale)
    n, alpha = len(below), 1 - level
    # the finite-sample conformal ranks: each tail holds at most alpha / 2 of the scores
    k_low = max(int(np.floor((n + 1) * alpha / 2)), 1)
    k_high = min(int(np.ceil((n + 1) * (1 - alpha / 2))), n)
    spec = {"level": level, "kind": "log_ratio_hull_scaled", "lower": float(below[k_low - 1]),
            "upper": float(above[k_high - 1]),
            "scale": {"name": "window_volatility", "feature": "close", "decay": VOLATILITY_DECAY,
                      "floor": floor,
                      "definition": "sqrt(sum_k w_k r_k^2), r_k = log(close[k + 1] / close[k]) "
                      "over the window's rows, w_k proportional to decay**(days before the "
                      "last return), summing to 1; at least floor (the calmest training "
                      "window's)"},
            "bounds": "[min(p, c) * exp(lower * scale), max(p, c) * exp(upper * scale)], "
                      "c: the window's last close",
            "method": "split conformal: ranks of log(actual / min(p, c)) / scale (lower) and "
                      "log(actual / max(p, c)) / scale (upper) on validation",
            "fitted_on": "validation"}  # fmt: skip
    lower, upper = band(spec, close_index, test.inputs, test.last_close, forecast["test"])
    spec["test_coverage"] = float(np.mean((test.next_close >= lower) & (test.next_close <= upper)))
    return spec
