"""The exported graph's named outputs: interval bounds and drift scores, against numpy."""

import json

import numpy as np
import pytest
import tensorflow as tf


def load(path):
    loaded = tf.saved_model.load(str(path))
    meta = json.loads((path / "metadata.json").read_text())
    return loaded, meta


def call(loaded, window):
    out = loaded.signatures["serving_default"](window=tf.constant(window, tf.float32))
    return {k: v.numpy() for k, v in out.items()}


def stock_rows(level=2000.0, n=20):
    close = level * (1 + 0.01 * np.sin(np.arange(n)))
    return np.stack([close * 0.999, close * 1.004, close * 0.995, close, np.full(n, 3e9)], -1)


def numpy_scale_free(rows):
    """log(p / last close) for prices, log((v + 1) / (window mean + 1)) for volume."""
    out = np.log(rows[..., :4] / rows[:, -1:, 3:4])
    volume = np.log((rows[..., 4:] + 1) / (rows[..., 4:].mean(axis=1, keepdims=True) + 1))
    return np.concatenate([out, volume], axis=-1)


@pytest.mark.parametrize("task", ["stock", "sine", "classify"])
def test_signature_outputs_match_the_metadata_signature_section(tiny_exports, task):
    loaded, meta = load(tiny_exports[task])
    section = meta["signature"]
    assert section["name"] == "serving_default"
    assert section["inputs"] == {"window": {"shape": meta["input"]["shape"], "dtype": "float32"}}
    signature = loaded.signatures["serving_default"]
    got = {k: v.shape.as_list() for k, v in signature.structured_outputs.items()}
    assert got == {k: v["shape"] for k, v in section["outputs"].items()}
    roles = {v["role"] for v in section["outputs"].values()}
    expected = {"prediction", "drift_value", "drift_score"}
    assert roles == (
        expected if task == "classify" else expected | {"interval_lower", "interval_upper"}
    )
    assert meta["drift"]["output"] == "drift_score"


def test_serve_and_serving_default_are_the_same_function(tiny_exports):
    loaded, _ = load(tiny_exports["stock"])
    window = stock_rows()[None]
    by_signature = call(loaded, window)
    by_serve = {k: v.numpy() for k, v in loaded.serve(tf.constant(window, tf.float32)).items()}
    assert by_serve.keys() == by_signature.keys()
    for name in by_serve:  # one graph, two call paths: equal up to float32's last bit
        np.testing.assert_allclose(by_serve[name], by_signature[name], rtol=1e-6, atol=1e-7)


def test_stock_interval_is_the_metadata_quantiles_scaled_by_the_windows_volatility(tiny_exports):
    loaded, meta = load(tiny_exports["stock"])
    rows = np.stack([stock_rows(), stock_rows(50.0)])
    out = call(loaded, rows)
    interval = meta["interval"]
    assert interval["kind"] == "log_ratio_hull_scaled" and interval["fitted_on"] == "validation"
    returns = np.diff(np.log(rows[..., 3]), axis=1)  # (2, 19) daily log returns of close
    weights = interval["scale"]["decay"] ** np.arange(18, -1, -1)  # the last return weighs most
    ewma = np.sqrt(returns**2 @ (weights / weights.sum()))
    scale = np.maximum(ewma, interval["scale"]["floor"])[:, None]
    p, last = out["next_close"].astype(np.float64), rows[:, -1, 3:4]
    low, high = np.minimum(p, last), np.maximum(p, last)
    np.testing.assert_allclose(out["lower"], low * np.exp(interval["lower"] * scale), rtol=1e-5)
    np.testing.assert_allclose(out["upper"], high * np.exp(interval["upper"] * scale), rtol=1e-5)
    assert (out["lower"] < np.minimum(p, last)).all() and (np.maximum(p, last) < out["upper"]).all()


def test_the_volatility_weighs_recent_days_most(tiny_exports):
    """The same returns, the large ones last or first: the band is wider when they are recent."""
    loaded, _ = load(tiny_exports["stock"])
    moves = np.r_[np.full(15, 0.002), np.full(4, 0.03)] * (-1) ** np.arange(19)
    recent, old = stock_rows(), stock_rows()
    for rows, r in ((recent, moves), (old, moves[::-1])):
        rows[:, :4] = (100 * np.exp(np.r_[0, np.cumsum(r)]))[:, None]
    out = call(loaded, np.stack([recent, old]))
    width = ((out["upper"] - out["lower"]) / out["next_close"])[:, 0]
    assert width[0] > 2 * width[1]


def test_a_volatile_window_gets_a_wider_band(tiny_exports):
    loaded, _ = load(tiny_exports["stock"])
    calm, wild = stock_rows(), stock_rows()
    wild[:, :4] *= np.exp(np.random.default_rng(0).normal(0, 0.03, 20))[:, None]
    out = call(loaded, np.stack([calm, wild]))
    width = (out["upper"] - out["lower"])[:, 0] / out["next_close"][:, 0]
    assert width[1] > 2 * width[0]


def test_a_window_of_one_price_keeps_a_band(tiny_exports):
    """Zero volatility is floored at the calmest training window's: never a zero-width band."""
    loaded, meta = load(tiny_exports["stock"])
    flat = np.tile([100.0, 100.0, 100.0, 100.0, 1e6], (1, 20, 1))
    out = call(loaded, flat)
    floor = meta["interval"]["scale"]["floor"]
    assert floor > 0
    p = max(float(out["next_close"][0, 0]), 100.0)  # the band holds the last close too
    assert float(out["upper"][0, 0]) == pytest.approx(p * np.exp(meta["interval"]["upper"] * floor))


def test_sine_interval_is_one_band_per_step(tiny_exports):
    loaded, meta = load(tiny_exports["sine"])
    x = (1.0 + 0.05 * np.arange(20)).reshape(1, 20, 1)
    out = call(loaded, x)
    lower = np.asarray(meta["interval"]["lower"]).reshape(1, 20, 1)
    upper = np.asarray(meta["interval"]["upper"]).reshape(1, 20, 1)
    np.testing.assert_allclose(out["lower"], out["y"] + lower, atol=1e-6)
    np.testing.assert_allclose(out["upper"], out["y"] + upper, atol=1e-6)


def test_stock_drift_score_is_the_z_score_of_the_scale_free_inputs(tiny_exports):
    loaded, meta = load(tiny_exports["stock"])
    stats = meta["statistics"]["inputs"]
    mean = np.array([stats[f]["mean"] for f in meta["input"]["features"]])
    std = np.array([stats[f]["std"] for f in meta["input"]["features"]])
    rows = stock_rows()[None]
    out = call(loaded, rows)
    np.testing.assert_allclose(out["drift_value"], numpy_scale_free(rows), atol=1e-6)
    np.testing.assert_allclose(out["drift_score"], (numpy_scale_free(rows) - mean) / std,
                               rtol=1e-4, atol=1e-4)  # fmt: skip
    # ten times the price level is the same window to a scale-free model: same scores
    tenfold = call(loaded, rows * np.array([10, 10, 10, 10, 1]))
    np.testing.assert_allclose(tenfold["drift_score"], out["drift_score"], atol=1e-3)
    assert np.abs(out["drift_score"]).max() < meta["drift"]["threshold"]


def test_stock_drift_score_flags_a_spike(tiny_exports):
    loaded, meta = load(tiny_exports["stock"])
    rows = stock_rows()
    rows[10, 1] *= 1.5  # one day's high 50% above its close
    score = call(loaded, rows[None])["drift_score"][0]  # (window, F)
    step, feature = np.unravel_index(np.abs(score).argmax(), score.shape)
    assert (step, meta["input"]["features"][feature]) == (10, "high")
    assert score[step, feature] > meta["drift"]["threshold"]


@pytest.mark.parametrize("task", ["sine", "classify"])
def test_curve_drift_score_is_the_distance_outside_the_trained_range(tiny_exports, task):
    loaded, meta = load(tiny_exports[task])
    high = meta["bounds"]["x"]["max"]
    x = np.linspace(high - 1.0, high + 1.0, 20).reshape(1, 20, 1)
    out = call(loaded, x)
    np.testing.assert_array_equal(out["drift_value"], x.astype(np.float32))
    expected = np.maximum(x - high, 0.0)
    np.testing.assert_allclose(out["drift_score"], expected, atol=1e-5)
    assert (out["drift_score"][x <= high] == 0).all() and (out["drift_score"][x > high] > 0).all()
    assert call(loaded, -x)["drift_score"].min() > 0  # below 0 too


def test_stock_metadata_carries_the_row_rules(tiny_exports):
    _, meta = load(tiny_exports["stock"])
    assert meta["input"]["rules"] == {
        "positive": ["open", "high", "low", "close"],
        "non_negative": ["volume"],
        "log_ratio": {"features": ["open", "high", "low", "close"], "denominator": "close"},
        "ordered": [["low", "high"]],
    }
    _, curve = load(tiny_exports["sine"])
    assert curve["input"]["rules"] == {}
