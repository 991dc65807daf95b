"""The models committed under models/ load, and meet the bars of the foundation issue."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from training.data import load_series
from training.evaluate import evaluate_stock, load_export

MODELS = Path(__file__).resolve().parents[1] / "models"


def newest(name: str) -> Path:
    versions = [p for p in (MODELS / name).iterdir() if p.name.isdigit()]
    return max(versions, key=lambda p: int(p.name))


def metadata(name: str) -> dict:
    return json.loads((newest(name) / "metadata.json").read_text())


def test_stock_does_not_lose_to_persistence_on_the_unseen_period():
    test = metadata("stock")["metrics"]["test"]
    assert test["windows"] > 500
    assert test["mape"] <= 1.0 * test["persistence_mape"]


def test_stock_on_nasdaq_never_trained_on():
    """Issue 12's bar, scored by `evaluate` through the serving signature."""
    card, _ = evaluate_stock(load_export(newest("stock")), load_series("nasdaq"))
    assert card["windows"] == 5011 - 2 * 21  # two zero-volume days, 21 windows each
    assert not card["scope"]["trained_on_this_series"]
    assert card["mape_ratio"] <= 1.02
    assert 0.85 <= card["interval"]["coverage"] <= 0.95


# Issue 16: the 90% band's coverage over every 250 days, without retraining, on each series
# (goog: a real stock of other volatility, 2004-2013; synthetic: abrupt regime switches)
COVERAGE_BARS = {"sp500": (0.84, 0.96), "nasdaq": (0.84, 0.96), "goog": (0.80, 0.99),
                 "synthetic": (0.80, 0.99)}  # fmt: skip


@pytest.mark.parametrize("series", sorted(COVERAGE_BARS))
def test_stock_interval_holds_over_every_year_of_each_market(series):
    card, _ = evaluate_stock(load_export(newest("stock")), load_series(series))
    rolling = card["interval"]["rolling_250_days"]
    low, high = COVERAGE_BARS[series]
    assert low <= rolling["min"] and rolling["max"] <= high, rolling
    if series == "sp500":  # its out-of-sample days only: the test period
        test = metadata("stock")["data"]["splits"]["test"]
        assert card["data"]["first_target"] == test["first_target"]


def test_stock_point_forecast_is_no_worse_than_before_the_interval_changed():
    """Version 4 (the same weights, a band from the 20-day std around the forecast only)
    scored MAPE 0.998021x persistence on the test period; the band leaves the forecast alone."""
    test = metadata("stock")["metrics"]["test"]
    assert test["mape_ratio"] <= 0.998021 * (1 + 1e-6)


def test_sine_fits_every_held_out_window():
    test = metadata("sine")["metrics"]["test"]
    assert test["mse"] <= 1e-3 and test["worst_window"]["mse"] <= 1e-3


def test_classifier_gets_the_sign_of_the_cosine_to_the_step():
    test = metadata("classify")["metrics"]["test"]
    assert test["accuracy"] >= 0.999 > 0.6 > test["baseline_accuracy"]
    assert test["straddling"]["windows"] >= 400 and test["straddling"]["accuracy"] >= 0.99


@pytest.mark.parametrize("name", ["stock", "sine"])
def test_interval_coverage_at_90_percent_is_between_85_and_95(name):
    interval = metadata(name)["interval"]
    assert interval["level"] == 0.9
    assert 0.85 <= interval["test_coverage"] <= 0.95


def test_committed_classifier_answers_a_clean_cosine_window():
    serve = tf.saved_model.load(str(newest("classify"))).signatures["serving_default"]
    step = metadata("classify")["config"]["x_step"]
    x = (np.arange(300, 320) * step).astype("float32")  # crosses no boundary: cos(4x) < 0 here
    probabilities = serve(window=tf.constant(x.reshape(1, 20, 1)))["probabilities"].numpy()[0]
    expected = (np.cos(4 * x) < 0).astype(int)
    assert (probabilities.argmax(-1) == expected).all()


def test_committed_sine_model_fits_a_window_between_grid_points():
    meta = metadata("sine")
    serve = tf.saved_model.load(str(newest("sine"))).signatures["serving_default"]
    x = (7.123 + np.arange(20) * meta["config"]["x_step"]).astype("float32")
    y = serve(window=tf.constant(x.reshape(1, 20, 1)))["y"].numpy().ravel()
    assert np.mean((y - np.cos(x)) ** 2) <= 1e-3


@pytest.mark.parametrize("name", ["stock", "sine", "classify"])
def test_committed_models_are_format_2_with_the_signature_they_describe(name):
    meta = metadata(name)
    assert meta["format"] == 2
    assert [p.name for p in (MODELS / name).iterdir() if p.name.isdigit()] == [newest(name).name]
    serve = tf.saved_model.load(str(newest(name))).signatures["serving_default"]
    outputs = {k: v.shape.as_list() for k, v in serve.structured_outputs.items()}
    described = meta["signature"]["outputs"]
    assert outputs == {k: v["shape"] for k, v in described.items()}
