"""Next-day close regression, measured against the persistence forecast on an unseen period."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artifact import consistency
from artifact.scorecard import mape, rmse
from training import data as price_data
from training.bands import band, fit_interval
from training.config import TrainConfig
from training.fit import Trained, fit
from training.models import PRICES, VOLUMES, stock_models
from training.windows import Split, chronological_split

# Requests whose scale-free inputs lie further than this many training standard deviations from
# the training mean get a warning from the service (stored in metadata `drift`).
DRIFT_Z = 6.0


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
    interval = fit_interval(config.interval_level, close_index, (train, val, test), forecast)
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
