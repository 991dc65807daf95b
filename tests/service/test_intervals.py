"""Prediction intervals from the stored residual quantiles, on the committed models."""

import math

import pytest

from service.examples import SINE_X, STOCK_ROWS
from tests.service.test_drift import newest_metadata


def test_stock_interval_per_prediction_is_the_log_ratio_band(committed_client):
    spec = newest_metadata("stock")["interval"]
    rows = [{k: v for k, v in row.items() if k != "date"} for row in STOCK_ROWS]
    body = committed_client.post("/predict/stock", json={"rows": rows + rows[:2]}).json()
    assert len(body["intervals"]) == len(body["predictions"]) == 3
    for p, interval in zip(body["predictions"], body["intervals"], strict=True):
        assert interval["lower"] == pytest.approx(p * math.exp(spec["lower"]))
        assert interval["upper"] == pytest.approx(p * math.exp(spec["upper"]))
        assert interval["lower"] < p < interval["upper"] and interval["level"] == spec["level"]


def test_sine_interval_per_y_is_additive_and_nested_like_y(committed_client):
    spec = newest_metadata("sine")["interval"]
    single = committed_client.post("/predict/sine", json={"x": SINE_X}).json()
    assert len(single["intervals"]) == 20 and isinstance(single["intervals"][0], dict)
    for y, interval in zip(single["y"], single["intervals"], strict=True):
        assert interval["lower"] == pytest.approx(y + spec["lower"])
        assert interval["upper"] == pytest.approx(y + spec["upper"])
    nested = committed_client.post("/predict/sine", json={"x": [SINE_X, SINE_X]}).json()
    assert [len(w) for w in nested["intervals"]] == [20, 20]
    assert nested["intervals"][1] == single["intervals"]


def test_sine_interval_covers_cos_on_an_in_range_window(committed_client):
    body = committed_client.post("/predict/sine", json={"x": SINE_X}).json()
    pairs = zip(SINE_X, body["intervals"], strict=True)
    inside = [i["lower"] <= math.cos(x) <= i["upper"] for x, i in pairs]
    assert sum(inside) >= 15  # a 90% band; the window is one draw, so not all 20


def test_models_without_an_interval_answer_null(fake_client):
    assert fake_client.post("/predict/sine", json={"x": SINE_X}).json()["intervals"] is None
