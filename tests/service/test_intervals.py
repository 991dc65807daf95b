"""Prediction intervals from the stored residual quantiles, on the committed models."""

import math

import numpy as np
import pytest

from service.examples import SINE_X, STOCK_ROWS
from tests.service.test_drift import newest_metadata


def test_stock_interval_per_prediction_is_the_volatility_scaled_log_ratio_band(committed_client):
    spec = newest_metadata("stock")["interval"]
    assert spec["kind"] == "log_ratio_hull_scaled"
    rows = [{k: v for k, v in row.items() if k != "date"} for row in STOCK_ROWS]
    body = committed_client.post("/predict/stock", json={"rows": rows + rows[:2]}).json()
    assert len(body["intervals"]) == len(body["predictions"]) == 3
    close = [row["close"] for row in rows + rows[:2]]
    weights = spec["scale"]["decay"] ** np.arange(18, -1, -1)  # the last return weighs most
    for w, (p, interval) in enumerate(zip(body["predictions"], body["intervals"], strict=True)):
        # the window's volatility: exponentially weighted, zero-mean, of its daily log returns
        returns = np.diff(np.log(close[w : w + 20]))
        scale = max(math.sqrt(returns**2 @ weights / weights.sum()), spec["scale"]["floor"])
        low, high = min(p, close[w + 19]), max(p, close[w + 19])  # forecast and last close
        assert interval["lower"] == pytest.approx(low * math.exp(spec["lower"] * scale), rel=1e-5)
        assert interval["upper"] == pytest.approx(high * math.exp(spec["upper"] * scale), rel=1e-5)
        assert interval["lower"] < p < interval["upper"] and interval["level"] == spec["level"]


def test_sine_interval_per_y_is_additive_and_nested_like_y(committed_client):
    spec = newest_metadata("sine")["interval"]
    single = committed_client.post("/predict/sine", json={"x": SINE_X}).json()
    assert len(single["intervals"]) == 20 and isinstance(single["intervals"][0], dict)
    assert spec["per"] == "step" and len(spec["lower"]) == len(spec["upper"]) == 20
    for step, (y, interval) in enumerate(zip(single["y"], single["intervals"], strict=True)):
        assert interval["lower"] == pytest.approx(y + spec["lower"][step])
        assert interval["upper"] == pytest.approx(y + spec["upper"][step])
    nested = committed_client.post("/predict/sine", json={"x": [SINE_X, SINE_X]}).json()
    assert [len(w) for w in nested["intervals"]] == [20, 20]
    assert nested["intervals"][1] == single["intervals"]


def test_sine_interval_covers_cos_about_90_percent_of_the_time(committed_client):
    """Coverage is a rate over windows anywhere in the range, not a promise for one window."""
    meta = newest_metadata("sine")
    step, x_max = meta["config"]["x_step"], meta["bounds"]["x"]["max"]
    starts = np.random.default_rng(7).uniform(0, x_max - 20 * step, size=200)
    windows = (starts[:, None] + np.arange(20) * step).tolist()
    body = committed_client.post("/predict/sine", json={"x": windows}).json()
    inside = [
        i["lower"] <= math.cos(x) <= i["upper"]
        for xs, row in zip(windows, body["intervals"], strict=True)
        for x, i in zip(xs, row, strict=True)
    ]
    assert 0.85 <= np.mean(inside) <= 0.95


def test_models_without_an_interval_answer_null(fake_client):
    assert fake_client.post("/predict/sine", json={"x": SINE_X}).json()["intervals"] is None
