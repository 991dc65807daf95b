import numpy as np
import pandas as pd
import pytest

from training.data import MIN_ROWS, DataError, load_csv, load_default, load_series
from training.windows import clean_windows


def daily_frame(n=MIN_ROWS, start=100.0):
    dates = pd.bdate_range("2020-01-01", periods=n)
    close = start + np.arange(n, dtype=float)
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "open": close - 0.5,
                         "high": close + 1, "low": close - 1, "close": close,
                         "volume": 1000 + np.arange(n)})  # fmt: skip


def test_plain_ohlcv_file_is_read_and_sorted_by_date(tmp_path):
    frame = daily_frame()
    path = tmp_path / "plain.csv"
    frame.iloc[::-1].to_csv(path, index=False)  # newest first on disk
    data = load_csv(path)
    assert data.features == ["open", "high", "low", "close", "volume"]
    assert data.frame.index.is_monotonic_increasing
    assert data.frame["close"].iloc[0] == 100.0
    assert len(data.sha256) == 64


def test_article_format_matched_case_insensitively_with_money_and_change(tmp_path):
    frame = daily_frame()
    classic = pd.DataFrame({"INDEX_CODE": "sh000001", "Date": frame["date"], "OPEN": frame["open"],
                            "Close": frame["close"], "low": frame["low"], "high": frame["high"],
                            "volume": frame["volume"], "money": frame["volume"] * 10,
                            "change": 0.01, "label": 1.0})  # fmt: skip
    path = tmp_path / "classic.csv"
    classic.to_csv(path, index=False)
    data = load_csv(path)
    assert data.features == ["open", "high", "low", "close", "volume", "money", "change"]
    assert "label" not in data.frame.columns


@pytest.mark.parametrize("header", ["Timestamp", "Datetime", None])
def test_the_dates_may_be_named_otherwise_or_be_an_unnamed_first_column(tmp_path, header):
    frame = daily_frame().set_index("date").rename(columns=str.title)  # Open, High, ...
    frame.index.name = header  # None: pandas' to_csv writes the index with an empty header
    path = tmp_path / "vendor.csv"
    frame.to_csv(path)
    data = load_csv(path)
    assert data.frame.index[0] == pd.Timestamp("2020-01-01")
    assert data.frame["close"].iloc[-1] == 100.0 + MIN_ROWS - 1


@pytest.mark.parametrize("tz", ["Asia/Karachi", "America/New_York"])  # one offset; two (DST)
def test_dates_with_a_utc_offset_keep_the_day_they_were_written_with(tmp_path, tz):
    frame = daily_frame(n=400).set_index("date")
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index)).tz_localize(tz)
    frame.iloc[0, frame.columns.get_loc("volume")] = 0  # 2020-01-01 local, 2019-12-31 in UTC
    path = tmp_path / "tz.csv"
    frame.to_csv(path)  # 2020-01-01 00:00:00+05:00, ...
    data = load_csv(path)
    assert data.frame.index[0] == pd.Timestamp("2020-01-01") and len(data.frame) == 400
    assert [e["date"] for e in data.excluded] == ["2020-01-01"]
    with pytest.raises(DataError, match="column volume, date 2020-01-01"):
        load_csv(path, strict=True)


def test_month_first_dates_with_dashes_keep_their_year(tmp_path):
    """A trailing "-2020" is a year, not a UTC offset: only a time of day carries one."""
    frame = daily_frame()
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%m-%d-%Y")  # 01-01-2020, ...
    path = tmp_path / "us.csv"
    frame.to_csv(path, index=False)
    data = load_csv(path)
    assert data.frame.index[0] == pd.Timestamp("2020-01-01")
    assert data.frame.index[-1] == pd.bdate_range("2020-01-01", periods=MIN_ROWS)[-1]


def test_a_file_without_any_date_column_is_refused_naming_it(tmp_path):
    path = tmp_path / "no_date.csv"
    daily_frame().drop(columns="date").to_csv(path, index=False)
    with pytest.raises(DataError, match=r"missing column\(s\) date"):
        load_csv(path)


def test_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "no_volume.csv"
    daily_frame().drop(columns="volume").to_csv(path, index=False)
    with pytest.raises(DataError, match=r"no_volume\.csv: missing column\(s\) volume"):
        load_csv(path)


def test_non_numeric_cell_names_file_column_and_line(tmp_path):
    frame = daily_frame().astype({"close": object})
    frame.loc[7, "close"] = "n/a"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"bad\.csv: column close, line 9: 'n/a' is not a number"):
        load_csv(path)


def test_too_few_rows_is_refused(tmp_path):
    path = tmp_path / "short.csv"
    daily_frame(n=MIN_ROWS - 1).to_csv(path, index=False)
    with pytest.raises(DataError, match=f"{MIN_ROWS - 1} data rows; at least {MIN_ROWS}"):
        load_csv(path)


def test_bad_date_names_the_line(tmp_path):
    frame = daily_frame()
    frame.loc[0, "date"] = "yesterday"
    path = tmp_path / "dates.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="column date, line 2: 'yesterday' is not a date"):
        load_csv(path)


def test_default_data_is_the_real_sp500_series():
    data = load_default()
    assert data.source == "arch.data.sp500"
    assert str(data.frame.index[0].date()) == "1999-01-04"
    assert data.frame.index.is_monotonic_increasing
    assert np.isfinite(data.frame.to_numpy()).all()


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        load_csv(path)


def test_nasdaq_series_is_shipped_too():
    data = load_series("nasdaq")
    assert data.source == "arch.data.nasdaq" and len(data.frame) == 5031
    assert data.features == ["open", "high", "low", "close", "volume"]
    with pytest.raises(DataError, match="unknown series 'dax'"):
        load_series("dax")


def _swap(frame):
    frame.iloc[[10, 11]] = frame.iloc[[11, 10]].to_numpy()
    return frame


def _set(column, row, value):
    def change(frame):
        frame.loc[row, column] = value
        return frame

    return change


# case: (change to a clean file, the strict refusal, the date left out by default)
INCONSISTENT = {
    "zero_price": (_set("low", 3, 0.0), r"column low, date 2020-01-06: 0\.0 must be > 0",
                   "2020-01-06"),
    "negative_volume": (_set("volume", 4, -5.0),
                        r"column volume, date 2020-01-07: -5\.0 must be > 0", "2020-01-07"),
    "zero_volume": (_set("volume", 4, 0.0), r"column volume, date 2020-01-07: 0\.0 must be > 0",
                    "2020-01-07"),
    "low_above_high": (_set("low", 3, 105.0),
                       r"column low, date 2020-01-06: 105\.0 is above high 104\.0", "2020-01-06"),
    "close_above_high": (_set("close", 3, 110.0),
                         r"column close, date 2020-01-06: 110\.0 is outside \[low, high\]",
                         "2020-01-06"),
    "open_below_low": (_set("open", 3, 90.0), r"column open, date 2020-01-06: 90\.0 is outside",
                       "2020-01-06"),
    "duplicate_date": (_set("date", 5, "2020-01-07"),
                       r"column date, line 7: 2020-01-07 appears twice", "2020-01-07"),
    "unsorted_dates": (_swap, r"line 13: 2020-01-15 after 2020-01-16 breaks the order of the rows "
                       r"\(oldest first\)", ("2020-01-15", "2020-01-16")),  # which is wrong?
}  # fmt: skip


def inconsistent_file(tmp_path, case):
    change, message, date = INCONSISTENT[case]
    path = tmp_path / f"{case}.csv"
    change(daily_frame()).to_csv(path, index=False)
    return path, message, date


@pytest.mark.parametrize("case", sorted(INCONSISTENT))
def test_strict_refuses_an_inconsistent_row_naming_it(tmp_path, case):
    path, message, _ = inconsistent_file(tmp_path, case)
    with pytest.raises(DataError, match=message):
        load_csv(path, strict=True)


@pytest.mark.parametrize("case", sorted(INCONSISTENT))
def test_an_inconsistent_row_is_marked_and_listed_by_default(tmp_path, case):
    path, _, dates = inconsistent_file(tmp_path, case)
    dates = [dates] if isinstance(dates, str) else list(dates)
    data = load_csv(path)
    assert [e["date"] for e in data.excluded] == dates
    assert [str(d.date()) for d in data.frame.index[data.bad_rows]] == dates
    assert data.frame.index.is_monotonic_increasing and data.frame.index.is_unique


def test_every_window_touching_a_bad_row_is_left_out():
    bad = np.zeros(12, bool)
    bad[5] = True  # windows of 3 rows, each with the next row as its target
    keep = clean_windows(bad, 3)
    # window k covers rows k..k+2 and targets row k+3: windows 2..5 touch row 5
    assert keep.tolist() == [True, True, False, False, False, False, True, True, True]


def test_a_semicolon_separated_file_with_decimal_commas_is_read(tmp_path):
    frame = daily_frame()
    path = tmp_path / "semicolons.csv"
    text = frame.to_csv(index=False, sep=";").replace(".5;", ",5;")
    path.write_text(text)
    data = load_csv(path)
    assert data.frame["open"].iloc[0] == 99.5 and len(data.frame) == MIN_ROWS


def test_quoted_thousands_separators_in_a_comma_separated_file_are_read(tmp_path):
    frame = daily_frame(start=1000.0)
    path = tmp_path / "grouped.csv"
    frame.to_csv(path, index=False, float_format="%.2f")
    text = path.read_text().replace("1000.00", '"1,000.00"').replace("1249.00", '"1,249.00"')
    path.write_text(text)
    data = load_csv(path)
    assert data.frame["close"].iloc[0] == 1000.0 and data.frame["close"].iloc[-1] == 1249.0


def test_a_tab_separated_file_is_read(tmp_path):
    path = tmp_path / "tabs.csv"
    daily_frame().to_csv(path, index=False, sep="\t")
    assert load_csv(path).features == ["open", "high", "low", "close", "volume"]


def test_an_unknown_separator_is_named_in_the_error(tmp_path):
    path = tmp_path / "colons.csv"
    daily_frame().to_csv(path, index=False, sep=":")
    with pytest.raises(DataError, match=r"missing column.*separated by commas"):
        load_csv(path)


def test_the_nasdaq_series_zero_volume_days_are_left_out():
    data = load_series("nasdaq")
    assert [e["date"] for e in data.excluded] == ["2015-05-12", "2018-01-09"]
    with pytest.raises(DataError, match=r"column volume, date 2015-05-12: 0\.0 must be > 0"):
        load_series("nasdaq", strict=True)


def test_the_synthetic_market_is_the_same_every_time_and_consistent():
    first, second = load_series("synthetic"), load_series("synthetic")
    assert first.sha256 == second.sha256 and first.source.startswith("synthetic")
    assert not first.excluded and len(first.frame) == 5000
