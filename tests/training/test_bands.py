"""training.bands: the stock interval's volatility and its conformal fit, on readable series."""

import numpy as np
import pytest

from training.bands import band, fit_interval, window_volatility
from training.windows import Split


def windows_of(returns: np.ndarray) -> np.ndarray:
    """(n, window, 5) rows whose closes follow `returns` (n, window - 1) from 100."""
    close = 100 * np.exp(np.c_[np.zeros(len(returns)), np.cumsum(returns, axis=1)])
    return np.repeat(close[..., None], 5, axis=-1)


def test_the_weighted_volatility_of_constant_moves_is_the_move():
    rows = windows_of(np.full((1, 19), 0.01) * (-1) ** np.arange(19))
    assert window_volatility(rows, 3, decay=0.85)[0] == pytest.approx(0.01)
    assert window_volatility(rows, 3)[0] == pytest.approx(0.01026, abs=1e-5)  # ddof 1, mean 0.0005


def test_the_last_days_weigh_most_and_the_floor_holds():
    calm_then_wild = np.r_[np.full(15, 0.001), np.full(4, 0.02)]
    rows = windows_of(np.stack([calm_then_wild, calm_then_wild[::-1], np.zeros(19)]))
    recent, old, flat = window_volatility(rows, 3, floor=0.002, decay=0.85)
    assert recent > 2 * old and flat == 0.002
    plain = window_volatility(rows, 3)
    assert plain[0] == pytest.approx(plain[1])  # the plain std ignores order


def split(name, n, rng):
    returns = rng.normal(0, 0.01, (n, 19)) * rng.choice([0.5, 1, 3], size=(n, 1))
    inputs = windows_of(returns)
    last = inputs[:, -1, 3]
    scale = window_volatility(inputs, 3, decay=0.85)
    nxt = last * np.exp(rng.standard_t(5, n) * scale / np.sqrt(5 / 3))
    return Split(name, inputs, last, nxt, np.arange(n))


def test_the_fitted_band_covers_its_level_on_new_windows_of_mixed_volatility():
    rng = np.random.default_rng(0)
    splits = tuple(split(name, n, rng) for name, n in (("train", 500), ("validation", 2000),
                                                         ("test", 4000)))  # fmt: skip
    forecast = {s.name: s.last_close * 1.0005 for s in splits[1:]}
    spec = fit_interval(0.9, 3, splits, forecast)
    assert spec["kind"] == "log_ratio_hull_scaled" and spec["lower"] < 0 < spec["upper"]
    assert 0.88 <= spec["test_coverage"] <= 0.92
    test = splits[2]
    lower, upper = band(spec, 3, test.inputs, test.last_close, forecast["test"])
    assert (lower < np.minimum(forecast["test"], test.last_close)).all()
    assert (upper > np.maximum(forecast["test"], test.last_close)).all()
    # per volatility level the band keeps its coverage: it scales with the window
    calm = window_volatility(test.inputs, 3, decay=0.85) < np.median(
        window_volatility(test.inputs, 3, decay=0.85)
    )
    inside = (test.next_close >= lower) & (test.next_close <= upper)
    assert abs(inside[calm].mean() - inside[~calm].mean()) < 0.04
