"""Next-day close regression, measured against the persistence forecast on an unseen period."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artifact.scorecard import mape, rmse
from training import consistency
from training import data as price_data
from training.config import TrainConfig
from training.fit import Trained, fit
from training.models import PRICES, VOLUMES, stock_models
from training.serving import ewma_weights
from training.windows import Split, chronological_split

# Requests whose scale-free inputs lie further than this many training standard deviations from
# the training mean get a warning from the service (stored in metadata `drift`).
DRIFT_Z = 6.0
# The interval's volatility: exponentially weighted, half-life about 4 trading days. Chosen on
# the training period only (docs/models.md), among 0.80-0.97: the highest lowest coverage over
# any 250 training days; a 20-day plain std reacts to a new regime a fortnight late.
VOLATILITY_DECAY = 0.85


def log_return(split: Split) -> np.ndarray:
    return np.log(split.next_close / split.last_close)


def train_stock(config: TrainConfig, csv: Path | None, verbose: int, strict: bool = False):
    """Fit on the first period, stop early on the second, report on the third (never seen).

    Windows that touch an inconsistent row of the data are left out of all three (or the file
    is refused when `strict`); the export's metadata lists those rows.
    """
    source = price_data.load_csv(csv, strict=strict) if csv else price_data.load_default()
    frame = source.frame
    try:
        train, val, test = chronological_split(
            frame.to_numpy("float64"),
            frame["close"].to_numpy("float64"),
            frame.index.to_numpy(),
            config.window,
            config.val_fraction,
            config.test_fraction,
            bad=source.bad_rows,
        )
    except ValueError as exc:
        raise price_data.DataError(f"{source.source}: {exc}") from None
    target = log_return(train)
    mean, std = float(target.mean()), float(target.std())
    fit_model, model, train_features = stock_models(
        source.features, train.inputs.astype("float32"), mean, std, config.units
    )
    history = fit(
        fit_model,
        (train.inputs.astype("float32"), ((target - mean) / std).astype("float32")),
        (val.inputs.astype("float32"), ((log_return(val) - mean) / std).astype("float32")),
        config,
        loss="mse",
        verbose=verbose,
    )
    forecast = {s.name: _predict(model, s) for s in (val, test)}
    close_index = source.features.index("close")
    interval = _interval(config.interval_level, close_index, (train, val, test), forecast)
    metadata = {
        "task": "regression",
        "description": "Next trading day's close from a window of daily rows (scale-free LSTM).",
        "input": _input_spec(source.features, config.window),
        "output": {"shape": [None, 1], "names": ["next_close"],
                   "description": "forecast close of the trading day after the window's last row"},
        "bounds": _bounds(frame.loc[(frame.index <= train.target_dates[-1]) & ~source.bad_rows]),
        "statistics": _statistics(source.features, train_features, mean, std),
        "data": _data_section(source, (train, val, test)),
        "metrics": {s.name: _metrics(s, forecast[s.name]) for s in (val, test)},
        "interval": interval,
        "drift": _drift(train_features),
    }  # fmt: skip
    lower, upper = band(interval, close_index, test.inputs, test.last_close, forecast["test"])
    curves = {
        "dates": test.target_dates.astype("datetime64[D]").astype(str),
        "actual": test.next_close,
        "forecast": forecast["test"],
        "lower": lower,
        "upper": upper,
    }
    return Trained(config, model, metadata, history, curves=curves)


def _predict(model, split: Split) -> np.ndarray:
    return model.predict(split.inputs.astype("float32"), batch_size=1024, verbose=0)[:, 0]


def _metrics(split: Split, forecast: np.ndarray) -> dict:
    """The model against persistence (tomorrow's close = today's close) on the same windows."""
    model_mape = mape(split.next_close, forecast)
    naive_mape = mape(split.next_close, split.last_close)
    return {
        "windows": len(split.next_close),
        "mape": model_mape,
        "persistence_mape": naive_mape,
        "mape_ratio": model_mape / naive_mape,
        "rmse": rmse(split.next_close, forecast),
        "persistence_rmse": rmse(split.next_close, split.last_close),
    }


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


def _interval(level: float, close_index: int, splits, forecast: dict) -> dict:
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


def _input_spec(features: list[str], window: int) -> dict:
    return {"features": list(features), "window": window, "shape": [None, window, len(features)],
            "dtype": "float32", "rules": input_rules(features)}  # fmt: skip


def input_rules(features: list[str]) -> dict:
    """What a raw row must satisfy before the graph can take it (the service applies these).

    Prices are positive and enter the model as log(price / window's last close); volumes are
    non-negative (log(v + 1)); a row's low is at most its high.
    """
    prices = [f for f in features if f in PRICES]
    return {
        "positive": prices,
        "non_negative": [f for f in features if f in VOLUMES],
        "log_ratio": {"features": prices, "denominator": "close"},
        "ordered": [["low", "high"]],
    }


def _bounds(train_rows) -> dict:
    return {c: {"min": float(train_rows[c].min()), "max": float(train_rows[c].max())}
            for c in train_rows.columns}  # fmt: skip


def _statistics(features, train_features: np.ndarray, mean: float, std: float) -> dict:
    """What the Normalization layer holds: scale-free input statistics of the training split."""
    flat = train_features.reshape(-1, train_features.shape[-1])
    per_feature = {
        name: {"mean": float(flat[:, i].mean()), "std": float(flat[:, i].std()),
               "min": float(flat[:, i].min()), "max": float(flat[:, i].max())}
        for i, name in enumerate(features)
    }  # fmt: skip
    return {
        "inputs": per_feature,
        "inputs_transform": "prices: log(p / window's last close); volume, money: "
        "log((v + 1) / (window mean + 1)); change: as is",
        "target": {"name": "log(next close / last close)", "mean": mean, "std": std},
        "computed_on": "train",
    }


def _drift(train_features: np.ndarray) -> dict:
    """The service's out-of-distribution rule, and how many training windows it flags."""
    flat = train_features.reshape(-1, train_features.shape[-1])
    z = np.abs((train_features - flat.mean(axis=0)) / flat.std(axis=0)).max(axis=(1, 2))
    return {"measure": "z_score", "threshold": DRIFT_Z, "against": "statistics.inputs",
            "output": "drift_score",
            "train_windows_flagged": float(np.mean(z > DRIFT_Z))}  # fmt: skip


def _data_section(source, splits) -> dict:
    def period(split: Split) -> dict:
        dates = split.target_dates.astype("datetime64[D]").astype(str)
        return {"windows": len(dates), "first_target": dates[0], "last_target": dates[-1]}

    frame = source.frame
    return {
        "source": source.source,
        "sha256": source.sha256,
        "rows": len(frame),
        "first_date": str(frame.index[0].date()),
        "last_date": str(frame.index[-1].date()),
        "splits": {s.name: period(s) for s in splits},
        "excluded": consistency.record(source.excluded),
        "month_end_closes": month_end_closes(frame.loc[~source.bad_rows, "close"]),
    }


def month_end_closes(close) -> dict[str, float]:
    """The close of each month's last trading day: how a scored series is recognised as the
    one trained on (artifact.periods), without shipping the data."""
    last = close.groupby(close.index.to_period("M")).tail(1)
    return {str(d.date()): float(v) for d, v in last.items()}
