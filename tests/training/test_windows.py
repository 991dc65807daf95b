import numpy as np
import pytest

from training.windows import (
    chronological_split,
    curve_windows,
    edge_windows,
    next_close_windows,
    sliding_windows,
    straddling_windows,
)


def test_sliding_windows_on_a_readable_series():
    values = np.arange(6).reshape(6, 1)  # rows 0..5, one feature
    windows = sliding_windows(values, 3)
    assert windows.shape == (4, 3, 1)
    assert windows[:, :, 0].tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]


def test_sliding_windows_needs_a_full_window():
    with pytest.raises(ValueError, match="at least 3 rows"):
        sliding_windows(np.zeros((2, 1)), 3)


def test_each_window_is_paired_with_the_next_rows_close():
    close = np.arange(10.0) * 10  # close of row i is 10 * i
    inputs, last, nxt, row = next_close_windows(close[:, None], close, window=4)
    assert len(inputs) == 6  # the last full window (rows 6..9) has no next row
    assert inputs[0, :, 0].tolist() == [0, 10, 20, 30]
    assert last.tolist() == [30, 40, 50, 60, 70, 80]
    assert nxt.tolist() == [40, 50, 60, 70, 80, 90]
    assert row.tolist() == [4, 5, 6, 7, 8, 9]


def test_split_is_chronological_with_no_training_row_after_its_period():
    n = 100
    values = np.arange(n, dtype=float)[:, None]
    dates = np.arange(n)
    train, val, test = chronological_split(values, values[:, 0], dates, 5, 0.2, 0.2)
    assert train.target_dates.max() < val.target_dates.min()
    assert val.target_dates.max() < test.target_dates.min()
    # every input row and target of a training window precedes the validation period
    assert train.inputs.max() < val.target_dates.min()
    assert train.next_close.max() < val.target_dates.min()
    assert len(train.inputs) + len(val.inputs) + len(test.inputs) == n - 5
    assert test.target_dates.min() == 80 and val.target_dates.min() == 60


def test_split_refuses_a_series_too_short_for_three_periods():
    values = np.arange(7, dtype=float)[:, None]
    with pytest.raises(ValueError, match="empty"):
        chronological_split(values, values[:, 0], np.arange(7), 5, 0.15, 0.15)


def test_curve_windows_are_consecutive_steps_inside_the_range():
    x = curve_windows(np.random.default_rng(0), 500, 20, 0.1, 100 * 0.1)
    assert x.shape == (500, 20, 1)
    np.testing.assert_allclose(np.diff(x[..., 0], axis=1), 0.1, rtol=1e-9)
    assert x.min() >= 0 and x.max() < 10.0
    off_grid = np.abs(x[:, 0, 0] / 0.1 - np.round(x[:, 0, 0] / 0.1)) > 1e-3
    assert off_grid.mean() > 0.9  # windows start between grid points too


def test_straddling_windows_each_hold_a_change_between_two_steps():
    changes = np.array([1.0, 2.5])
    x = straddling_windows(np.random.default_rng(0), 300, 20, 0.01, changes)[..., 0]
    assert x.shape == (300, 20)
    np.testing.assert_allclose(np.diff(x, axis=1), 0.01, rtol=1e-9)
    holds = ((x[:, :1] < changes) & (x[:, -1:] > changes)).sum(axis=1)
    assert (holds == 1).all()
    assert {round(c, 1) for c in changes[np.argmax(x[:, :1] < changes, axis=1)]} == {1.0, 2.5}


def test_edge_windows_lie_inside_the_range_and_touch_its_ends():
    x = edge_windows(np.random.default_rng(0), 400, 20, 0.1, 10.0)[..., 0]
    assert x.shape == (400, 20) and x.min() >= 0 and x.max() < 10.0
    starts, ends = x[0::2, 0], x[1::2, -1]
    assert starts.max() < 2.0 and ends.min() > 10.0 - 0.1 - 2.0  # within one window of the ends
    # densest at the ends: half lie within a quarter window (uniform: within half a window)
    assert np.median(starts) < 0.7 and np.median(ends) > 10.0 - 0.1 - 0.7
