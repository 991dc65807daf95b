import numpy as np
import pandas as pd
import pytest

from training.data import MIN_ROWS, DataError, load_csv, load_default, load_series


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


def test_non_positive_price_is_refused(tmp_path):
    frame = daily_frame()
    frame.loc[3, "low"] = 0.0
    path = tmp_path / "zero.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column low, date 2020-01-06: 0\.0 must be > 0"):
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


def test_duplicate_date_is_refused_naming_the_line(tmp_path):
    frame = daily_frame()
    frame.loc[5, "date"] = frame.loc[4, "date"]
    path = tmp_path / "dup.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"dup\.csv: column date, line 7: 2020-01-07 appears twice"):
        load_csv(path)


def test_shuffled_dates_are_refused_naming_the_line(tmp_path):
    frame = daily_frame()
    frame.iloc[[10, 11]] = frame.iloc[[11, 10]].to_numpy()
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"line 13: 2020-01-15 after 2020-01-16 breaks the file's "
                       r"order \(oldest first\)"):  # fmt: skip
        load_csv(path)


def test_low_above_high_is_refused(tmp_path):
    frame = daily_frame()
    frame.loc[3, "low"] = frame.loc[3, "high"] + 1
    path = tmp_path / "crossed.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(
        DataError, match=r"column low, date 2020-01-06: 105\.0 is above high 104\.0"
    ):
        load_csv(path)


def test_nasdaq_series_is_shipped_too():
    data = load_series("nasdaq")
    assert data.source == "arch.data.nasdaq" and len(data.frame) == 5031
    assert data.features == ["open", "high", "low", "close", "volume"]
    with pytest.raises(DataError, match="unknown series 'dax'"):
        load_series("dax")
