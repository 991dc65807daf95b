"""Daily price data: the S&P 500 series `arch` ships, or a user's CSV, validated and sorted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Feature order of the model's input. A file's columns are matched by name, case-insensitively.
REQUIRED = ("open", "high", "low", "close", "volume")
OPTIONAL = ("money", "change")
MIN_ROWS = 250  # about one trading year: enough for a window plus three non-empty splits


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
    import arch.data.sp500 as sp500

    path = Path(sp500.__file__).with_name("sp500.csv.gz")
    frame = sp500.load().rename(columns=str.lower).drop(columns=["adj close"])
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return PriceData(frame[list(REQUIRED)].astype("float64"), "arch.data.sp500", sha256_of(path))


def load_csv(path: Path) -> PriceData:
    """A user's file: the article's `index_code,date,open,close,...` format or plain OHLCV."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
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
    frame = frame.sort_index()
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise DataError(f"{path}: column date: {dup.date()} appears more than once")
    if len(frame) < MIN_ROWS:
        raise DataError(f"{path}: {len(frame)} data rows; at least {MIN_ROWS} are needed")
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


def _check_ranges(frame: pd.DataFrame, path: Path) -> None:
    """Prices must be positive and volumes non-negative: the model works on their logarithms."""
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
