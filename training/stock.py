"""Next-day close regression, measured against the persistence forecast on an unseen period."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training import data as price_data
from training.config import TrainConfig
from training.models import PRICES, VOLUMES, stock_models
from training.train import Trained, fit
from training.windows import Split, chronological_split


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error, in percent."""
    return float(np.mean(np.abs(forecast - actual) / np.abs(actual)) * 100)


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.sqrt(np.mean((forecast - actual) ** 2)))


# Requests whose scale-free inputs lie further than this many training standard deviations from
# the training mean get a warning from the service (stored in metadata `drift`).
DRIFT_Z = 6.0


def log_return(split: Split) -> np.ndarray:
    return np.log(split.next_close / split.last_close)


def train_stock(config: TrainConfig, csv: Path | None, verbose: int) -> Trained:
    """Fit on the first period, stop early on the second, report on the third (never seen)."""
    source = price_data.load_csv(csv) if csv else price_data.load_default()
    frame = source.frame
    train, val, test = chronological_split(
        frame.to_numpy("float64"),
        frame["close"].to_numpy("float64"),
        frame.index.to_numpy(),
        config.window,
        config.val_fraction,
        config.test_fraction,
    )
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
    interval = _interval(config.interval_level, val, forecast["validation"], test, forecast["test"])
    metadata = {
        "task": "regression",
        "description": "Next trading day's close from a window of daily rows (scale-free LSTM).",
        "input": _input_spec(source.features, config.window),
        "output": {"shape": [None, 1], "names": ["next_close"],
                   "description": "forecast close of the trading day after the window's last row"},
        "bounds": _bounds(frame.loc[frame.index <= train.target_dates[-1]]),
        "statistics": _statistics(source.features, train_features, mean, std),
        "data": _data_section(source, (train, val, test)),
        "metrics": {s.name: _metrics(s, forecast[s.name]) for s in (val, test)},
        "interval": interval,
        "drift": _drift(train_features),
    }  # fmt: skip
    curves = {
        "dates": test.target_dates.astype("datetime64[D]").astype(str),
        "actual": test.next_close,
        "forecast": forecast["test"],
        "lower": forecast["test"] * np.exp(interval["lower"]),
        "upper": forecast["test"] * np.exp(interval["upper"]),
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


def _interval(level: float, val: Split, val_forecast, test: Split, test_forecast) -> dict:
    """Quantiles of log(actual / forecast) on validation; coverage measured on test."""
    residual = np.log(val.next_close / val_forecast)
    lower, upper = np.quantile(residual, [(1 - level) / 2, (1 + level) / 2])
    test_residual = np.log(test.next_close / test_forecast)
    coverage = float(np.mean((test_residual >= lower) & (test_residual <= upper)))
    return {"level": level, "kind": "log_ratio", "lower": float(lower), "upper": float(upper),
            "fitted_on": "validation", "test_coverage": coverage}  # fmt: skip


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
    }
