"""artifact.periods: which scored days a model was fitted or tuned on, and the headline."""

import numpy as np
import pytest

from artifact import periods

DATA = {
    "source": "my.csv",
    "sha256": "a" * 64,
    "splits": {"train": {"last_target": "2020-01-10"},
               "validation": {"last_target": "2020-01-20"}},
    "month_end_closes": {"2019-12-31": 100.0, "2020-01-31": 110.0},
}  # fmt: skip


def test_the_same_file_is_the_training_series():
    assert periods.identify(DATA, sha256="a" * 64)[0]


def test_equal_month_end_closes_identify_a_copy_of_the_training_series():
    dates = np.array(["2019-12-31", "2020-01-02", "2020-01-31"], "datetime64[D]")
    trained, why = periods.identify(DATA, "b" * 64, dates, [100.0 * (1 + 1e-7), 99.0, 110.0])
    assert trained and "2 month-end closes" in why


def test_one_different_month_end_close_is_another_series():
    dates = np.array(["2019-12-31", "2020-01-31"], "datetime64[D]")
    trained, why = periods.identify(DATA, None, dates, [100.0, 111.0])
    assert not trained and "1 of 2 shared month-end closes differ" in why


def test_rows_without_dates_cannot_be_matched():
    trained, why = periods.identify(DATA, None, None, [100.0])
    assert not trained and "no dates" in why


def test_days_are_labelled_by_the_split_dates_only_on_the_training_series():
    days = np.array(["2020-01-10", "2020-01-11", "2020-01-20", "2020-01-21"], "datetime64[D]")
    assert periods.labels(days, DATA["splits"], True).tolist() == [
        "in_sample", "validation", "validation", "out_of_sample"]  # fmt: skip
    assert set(periods.labels(days, DATA["splits"], False)) == {"out_of_sample"}


def stock_card(period, identified=(True, "same")):
    n = len(period)
    rng = np.random.default_rng(0)
    actual = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n + 1)))
    days = np.arange(n).astype(str)
    return periods.stock(np.asarray(period, object), days, actual[1:], actual[:-1],
                         actual[:-1] * 1.001, actual[1:] * 0.99, actual[1:] * 1.01,
                         np.zeros((n, 1)), 6.0, 0.9, None, identified)  # fmt: skip


def test_the_headline_is_the_out_of_sample_days_and_each_period_is_shown():
    period = ["in_sample"] * 50 + ["validation"] * 20 + ["out_of_sample"] * 40
    card = stock_card(period)
    scope = card["scope"]
    assert card["windows"] == 40 == scope["periods"]["out_of_sample"]["days"]
    assert card["mape"] == pytest.approx(scope["periods"]["out_of_sample"]["mape"])
    assert [scope["periods"][k]["days"] for k in ("in_sample", "validation")] == [50, 20]
    assert scope["headline"] == "out-of-sample days only"


def test_too_few_out_of_sample_days_are_refused():
    with pytest.raises(ValueError, match="29 of the 129 days in the range are out-of-sample"):
        stock_card(["in_sample"] * 100 + ["out_of_sample"] * 29)
