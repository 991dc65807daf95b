"""Daily price data: a series `arch` ships (S&P 500, NASDAQ), or a user's CSV, validated."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Feature order of the model's input. A file's columns are matched by name, case-insensitively.
REQUIRED = ("open", "high", "low", "close", "volume")
OPTIONAL = ("money", "change")
MIN_ROWS = 250  # about one trading year: enough for a window plus three non-empty splits
# Daily OHLCV series shipped inside the `arch` package: real index data, no download.
SERIES = ("sp500", "nasdaq")


class DataError(ValueError):
    """A data file that cannot be trained on; the message names file, column and row."""


@dataclass(frozen=True)
class PriceData:
    """A validated daily series, oldest first, with where it came from."""

    frame: pd.DataFrame  # index: date; columns: features, in model order
    source: str
    sha256: str

    @property
    def features(self) -> list[str]:
        return list(self.frame.columns)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_default() -> PriceData:
    """The real S&P 500 daily OHLCV series (1999-2018) shipped inside the `arch` package."""
    return load_series("sp500")


def load_series(name: str) -> PriceData:
    """A daily OHLCV index series (1999-2018) that `arch` ships: "sp500" or "nasdaq"."""
    if name not in SERIES:
        raise DataError(f"unknown series {name!r}; expected one of {', '.join(SERIES)}")
    module = importlib.import_module(f"arch.data.{name}")
    path = Path(module.__file__).with_name(f"{name}.csv.gz")
    frame = module.load().rename(columns=str.lower).drop(columns=["adj close"])
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    frame = frame[list(REQUIRED)].astype("float64")
    _check_ranges(frame, path)
    return PriceData(frame, f"arch.data.{name}", sha256_of(path))


def load_csv(path: Path, min_rows: int = MIN_ROWS) -> PriceData:
    """A user's file: the article's `index_code,date,open,close,...` format or plain OHLCV.

    Rows may be oldest first or newest first, but in one order with no date twice.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("date", *REQUIRED) if c not in raw.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {list(raw.columns)}"
        )
    features = [*REQUIRED, *(c for c in OPTIONAL if c in raw.columns)]
    frame = pd.DataFrame({c: _numeric(raw[c], path, c) for c in features})
    frame.index = _dates(raw["date"], path)
    if len(frame) < min_rows:
        raise DataError(f"{path}: {len(frame)} data rows; at least {min_rows} are needed")
    _check_order(frame.index, path)
    frame = frame.sort_index()
    _check_ranges(frame, path)
    return PriceData(frame, str(path), sha256_of(path))


def _numeric(column: pd.Series, path: Path, name: str) -> pd.Series:
    values = pd.to_numeric(column.str.strip(), errors="coerce")
    bad = values.isna() | ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(f"{path}: column {name}, line {i + 2}: {column.iloc[i]!r} is not a number")
    return values.astype("float64")


def _dates(column: pd.Series, path: Path) -> pd.DatetimeIndex:
    dates = pd.to_datetime(column.str.strip(), errors="coerce", format="mixed")
    if dates.isna().any():
        i = int(np.argmax(dates.isna().to_numpy()))
        raise DataError(f"{path}: column date, line {i + 2}: {column.iloc[i]!r} is not a date")
    return pd.DatetimeIndex(dates, name="date")


def _check_order(dates: pd.DatetimeIndex, path: Path) -> None:
    """One date per row, in one direction: a shuffled or doubled file is not a daily series."""
    step = np.diff(dates.to_numpy()).astype("int64")  # (n - 1,)
    if (step == 0).any():
        i = int(np.argmax(step == 0)) + 1
        raise DataError(f"{path}: column date, line {i + 2}: {dates[i].date()} appears twice")
    direction = np.sign(step[0]) if len(step) else 1
    wrong = np.sign(step) != direction
    if wrong.any():
        i = int(np.argmax(wrong)) + 1
        order = "oldest first" if direction > 0 else "newest first"
        raise DataError(f"{path}: column date, line {i + 2}: {dates[i].date()} after "
                        f"{dates[i - 1].date()} breaks the file's order ({order})")  # fmt: skip


def _check_ranges(frame: pd.DataFrame, path: Path) -> None:
    """Prices must be positive, volumes non-negative (the model takes their logarithms), and a
    row's low at most its high (the service refuses such a row)."""
    for name in frame.columns:
        if name == "change":
            continue
        values = frame[name].to_numpy()
        is_price = name in ("open", "high", "low", "close")
        bad = values <= 0 if is_price else values < 0
        if bad.any():
            i = int(np.argmax(bad))
            rule = "must be > 0" if is_price else "must be >= 0"
            raise DataError(
                f"{path}: column {name}, date {frame.index[i].date()}: {values[i]} {rule}"
            )
    above = (frame["low"] > frame["high"]).to_numpy()
    if above.any():
        i = int(np.argmax(above))
        low, high = frame["low"].iloc[i], frame["high"].iloc[i]
        raise DataError(
            f"{path}: column low, date {frame.index[i].date()}: {low} is above high {high}"
        )
