"""Daily price data: a series `arch` ships (S&P 500, NASDAQ), Alphabet's as `backtesting` ships
it, a synthetic stand-in, or a user's CSV, checked row by row (artifact.consistency)."""

from __future__ import annotations

import csv
import hashlib
import importlib
import importlib.util
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from artifact import consistency

# Feature order of the model's input. A file's columns are matched by name, case-insensitively.
REQUIRED = ("open", "high", "low", "close", "volume")
OPTIONAL = ("money", "change")
MIN_ROWS = 250  # about one trading year: enough for a window plus three non-empty splits
# Daily OHLCV series shipped inside the `arch` package (real index data, no download); one real
# stock of other volatility, Alphabet (GOOG) 2004-2013, as the `backtesting` package ships it;
# and a synthetic market with other volatility regimes (training.synthetic, clearly not data).
SERIES = ("sp500", "nasdaq", "goog", "synthetic")
# The file in the `backtesting` wheel (installed without its plotting dependencies by
# `make install`, requirements/test-no-deps.txt): read in place, the package never imported.
GOOG = ("backtesting", "test/GOOG.csv", "pip install --no-deps backtesting==0.6.6")
DELIMITERS = ",;\t|"
# The date column's names, in order of preference; without any, an unnamed first column (the
# index pandas' `DataFrame.to_csv` writes) holds the dates.
DATE_NAMES = ("date", "datetime", "timestamp", "time", "day")


class DataError(ValueError):
    """A data file that cannot be trained on; the message names file, column and row."""


@dataclass(frozen=True)
class PriceData:
    """A daily series, oldest first, with where it came from and the rows it must not use.

    `bad` (n_rows,) marks inconsistent rows, kept in place so that windows keep their days
    apart; `excluded` says which dates and why (artifact.consistency).
    """

    frame: pd.DataFrame  # index: date; columns: features, in model order
    source: str
    sha256: str
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    excluded: list[dict] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def bad_rows(self) -> np.ndarray:
        """(n_rows,) bool: True where the row is inconsistent."""
        return self.bad if len(self.bad) == len(self.frame) else np.zeros(len(self.frame), bool)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_default() -> PriceData:
    """The real S&P 500 daily OHLCV series (1999-2018) shipped inside the `arch` package."""
    return load_series("sp500")


def load_series(name: str, strict: bool = False) -> PriceData:
    """A daily OHLCV series: "sp500" or "nasdaq" (1999-2018, from `arch`), or "synthetic"."""
    if name not in SERIES:
        raise DataError(f"unknown series {name!r}; expected one of {', '.join(SERIES)}")
    if name == "synthetic":
        from training import synthetic

        frame = synthetic.frame()
        digest = hashlib.sha256(frame.to_csv().encode()).hexdigest()
        return _checked(frame, synthetic.SOURCE.format(seed=0), digest, strict)
    if name == "goog":
        package, file, _ = GOOG
        return replace(load_csv(_shipped(*GOOG), strict=strict), source=f"{package}:{file}")
    module = importlib.import_module(f"arch.data.{name}")
    path = Path(module.__file__).with_name(f"{name}.csv.gz")
    frame = module.load().rename(columns=str.lower).drop(columns=["adj close"])
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    frame = frame[list(REQUIRED)].astype("float64")
    return _checked(frame, f"arch.data.{name}", sha256_of(path), strict)


def _shipped(package: str, name: str, install: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    path = Path(next(iter(spec.submodule_search_locations)), name) if spec else None
    if path is None or not path.is_file():
        raise DataError(f"{package}/{name} is not installed: `{install}` (make install does)")
    return path


def load_csv(path: Path, min_rows: int = MIN_ROWS, strict: bool = False) -> PriceData:
    """A user's file: the article's `index_code,date,open,close,...` format or plain OHLCV,
    separated by commas, semicolons, tabs or bars (found from the file's first lines).

    Rows may be oldest first or newest first. Inconsistent rows (artifact.consistency) are
    marked and listed, or refused at the first one when `strict`.
    """
    path = Path(path)
    raw = _read(path)
    features = [*REQUIRED, *(c for c in OPTIONAL if c in raw.columns)]
    frame = pd.DataFrame({c: _numeric(raw[c], path, c) for c in features})
    frame.index = _dates(raw["date"], path)
    if len(frame) < min_rows:
        raise DataError(f"{path}: {len(frame)} data rows; at least {min_rows} are needed")
    return _checked(frame, str(path), sha256_of(path), strict, line=True)


def _read(path: Path) -> pd.DataFrame:
    """The file's cells as strings, with lower-case column names; DataError naming the file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            head = stream.read(64 * 1024)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc})") from exc
    if not head.strip():
        raise DataError(f"{path}: the file is empty")
    try:
        sep = csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=DELIMITERS).delimiter
    except csv.Error:
        sep = ","
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    raw = raw.rename(columns={_date_column(list(raw.columns)): "date"})
    missing = [c for c in ("date", *REQUIRED) if c not in raw.columns]
    if missing:
        named = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}[sep]
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; found "
                        f"{list(raw.columns)} (columns read as separated by {named})")  # fmt: skip
    # a semicolon-separated file often writes 1234,5 for 1234.5; in a comma-separated one a
    # comma inside a (quoted) number can only group thousands: "1,234.5"
    comma = "." if sep != "," else ""
    return raw.apply(lambda c: c.str.replace(",", comma, regex=False) if c.name != "date" else c)


def _date_column(columns: list[str]) -> str:
    """The column that holds the dates: the first of DATE_NAMES found, else an unnamed first
    column ("" or pandas' "unnamed: 0"); "date" (reported missing) when there is neither."""
    named = [c for c in DATE_NAMES if c in columns]
    if named:
        return named[0]
    if columns and (not columns[0] or columns[0].startswith("unnamed: ")):
        return columns[0]
    return "date"


def _numeric(column: pd.Series, path: Path, name: str) -> pd.Series:
    values = pd.to_numeric(column.str.strip(), errors="coerce")
    bad = values.isna() | ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(f"{path}: column {name}, line {i + 2}: {column.iloc[i]!r} is not a number")
    return values.astype("float64")


# a UTC offset after a time of day ("...09:30:00+05:00", "-0400", "Z"): dropped, so that each
# row keeps the day and time it was written with (a daily series' day is its local one); a
# date alone keeps its dashes ("01-15-2020" has no offset)
OFFSET = r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(?:[+-]\d\d:?\d\d|Z)$"  # -> the time alone


def _dates(column: pd.Series, path: Path) -> pd.DatetimeIndex:
    local = column.str.strip().str.replace(OFFSET, r"\1", regex=True)
    try:
        dates = pd.to_datetime(local, errors="coerce", format="mixed")
    except (ValueError, OverflowError) as exc:
        raise DataError(f"{path}: column date: cannot be read as dates ({exc})") from None
    if dates.isna().any():
        i = int(np.argmax(dates.isna().to_numpy()))
        raise DataError(f"{path}: column date, line {i + 2}: {column.iloc[i]!r} is not a date")
    return pd.DatetimeIndex(dates, name="date")


def _checked(frame: pd.DataFrame, source: str, digest: str, strict: bool,
             line: bool = False) -> PriceData:  # fmt: skip
    """The frame in date order, each date once, its inconsistent rows marked
    (artifact.consistency), or DataError at the first one when `strict`: naming its line
    in the file (`line`) for a date out of order, else its date."""
    columns = {c: frame[c].to_numpy("float64") for c in frame.columns}
    try:
        found = consistency.as_found(columns, frame.index.to_numpy(), strict)
    except consistency.Inconsistent as exc:
        where = (f"line {exc.row + 2}" if line and exc.column == "date"
                 else f"date {frame.index[exc.row].date()}")  # fmt: skip
        raise DataError(f"{source}: column {exc.column}, {where}: {exc.problem}") from None
    return PriceData(frame.iloc[found.rows], source, digest, found.bad, found.excluded)
