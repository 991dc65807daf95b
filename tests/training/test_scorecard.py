"""The scorecard's definitions, on numbers small enough to check by hand."""

import ast
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from artifact import scorecard


def test_scorecard_imports_neither_tensorflow_nor_pandas_nor_scipy():
    tree = ast.parse(Path(scorecard.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} <= {"__future__", "math", "numpy"}


@pytest.mark.parametrize(("t", "df"), [(0.0, 10), (1.3, 5), (-2.5, 30), (3.9, 4000), (12.0, 8)])
def test_t_p_value_matches_scipy(t, df):
    assert scorecard.t_two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9,
                                                          abs=1e-15)  # fmt: skip


def test_diebold_mariano_with_hln_by_hand():
    rng = np.random.default_rng(0)
    model, baseline = rng.normal(1.0, 0.3, 200) ** 2, rng.normal(1.1, 0.3, 200) ** 2
    d = model - baseline
    n = len(d)
    dm = d.mean() / np.sqrt(d.var() / n)  # horizon 1: the lag-0 variance only
    hln = dm * np.sqrt((n - 1) / n)
    result = scorecard.diebold_mariano(model, baseline)
    assert result["statistic"] == pytest.approx(hln)
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(abs(hln), n - 1))
    assert result["mean_difference"] == pytest.approx(d.mean()) and result["df"] == n - 1


def test_diebold_mariano_of_identical_forecasts_is_no_evidence():
    loss = np.arange(10.0)
    assert scorecard.diebold_mariano(loss, loss)["p_value"] == pytest.approx(1.0)


def test_stock_scorecard_of_persistence_against_itself():
    actual = np.array([100.0, 101.0, 99.0, 102.0, 103.0])
    last = np.array([99.0, 100.0, 101.0, 99.0, 102.0])
    score = np.zeros((5, 3, 2))
    score[1, 2, 1] = 7.0  # one window over the threshold of 6
    card = scorecard.stock(actual, last, last, last * 0.99, last * 1.01, score, 6.0, 0.9)
    assert card["mape_ratio"] == pytest.approx(1.0)
    assert card["diebold_mariano"]["p_value"] == pytest.approx(1.0)
    assert card["mape"] == pytest.approx(np.mean(np.abs(last - actual) / actual) * 100)
    assert card["warned_windows"] == pytest.approx(0.2)
    # within 1% of the day before: 100 -> 101 and 102 -> 103 only
    assert card["interval"]["coverage"] == pytest.approx(0.4)


def test_directional_accuracy_counts_days_the_close_moved():
    actual = np.array([101.0, 99.0, 100.0, 100.0])
    last = np.array([100.0, 100.0, 100.0, 99.0])
    forecast = np.array([100.5, 100.5, 100.2, 99.5])  # right, wrong, (no move), right
    card = scorecard.stock(actual, last, forecast, forecast, forecast, np.zeros((4, 1)), 6, 0.9)
    direction = card["directional_accuracy"]
    assert direction == {
        "model": pytest.approx(2 / 3),
        "always_up": pytest.approx(2 / 3),
        "days": 3,
    }


def test_sine_scorecard_names_the_worst_window():
    x = np.linspace(0, 1, 60).reshape(3, 20, 1)
    y = np.cos(x)
    y[1] += 0.05  # window 1 off by 0.05 everywhere: MSE 2.5e-3
    card = scorecard.sine(np.cos(x), y, y - 0.1, y + 0.1, np.zeros_like(x), 0.0, x[:, 0, 0])
    assert card["worst_window"] == {"mse": pytest.approx(2.5e-3), "x_start": x[1, 0, 0]}
    assert card["windows_over_bound"]["share"] == pytest.approx(1 / 3)
    assert card["interval"]["coverage"] == pytest.approx(1.0)


def test_classify_scorecard_scores_straddling_windows_apart():
    truth = np.zeros((4, 20), int)
    p = np.zeros((4, 20, 2))
    p[..., 0] = 1.0
    straddle = np.repeat([[0] * 10 + [1] * 10], 2, axis=0)
    p_straddle = np.zeros((2, 20, 2))
    p_straddle[:, :12, 0] = 1.0  # the boundary two steps late
    p_straddle[:, 12:, 1] = 1.0
    card = scorecard.classify(truth, p, np.zeros((4, 20, 1)), 0.0, straddle, p_straddle)
    assert card["accuracy"] == pytest.approx(1.0) and card["by_step"] == pytest.approx([1.0] * 20)
    assert card["straddling"]["accuracy"] == pytest.approx(0.9)


def test_interval_coverage_by_year_and_over_its_worst_run_of_days():
    n = 600
    actual = np.full(n, 100.0)
    forecast = np.full(n, 100.0)
    lower, upper = forecast - 1, forecast + 1
    actual[300:400] = 103.0  # a turbulent spell outside the band: 100 days of the 600
    years = np.repeat([2007, 2008], 300)
    last = np.full(n, 99.0)
    card = scorecard.stock(actual, last, forecast, lower, upper, np.zeros((n, 1)), 6, 0.9, years)
    band = card["interval"]
    assert band["coverage"] == pytest.approx(500 / 600)
    assert band["by_year"] == pytest.approx({"2007": 1.0, "2008": 200 / 300})
    assert band["rolling_250_days"] == pytest.approx({"min": 150 / 250, "max": 1.0})
    assert band["rolling_250_days"]["max"] <= 1.0  # a share of days, never above all of them
    assert card["warned_by_year"] == {"2007": 0, "2008": 0}


def test_a_flat_series_has_no_ratio_to_persistence():
    flat = np.full(40, 100.0)
    card = scorecard.stock(flat, flat, flat + 1, flat, flat + 2, np.zeros((40, 1)), 6, 0.9)
    assert card["mape_ratio"] is None and card["directional_accuracy"]["model"] is None
    assert card["mape"] == pytest.approx(1.0)
