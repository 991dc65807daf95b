import json

import numpy as np
import tensorflow as tf

from tests.tiny import train_tiny
from training.export import export, next_version
from training.train import train


def load_serving(path):
    return tf.saved_model.load(str(path)).signatures["serving_default"]


def test_layout_is_tf_serving_with_metadata_inside_the_version(tiny_exports):
    for task, path in tiny_exports.items():
        assert path.name == "1" and path.parent.name == task
        assert (path / "saved_model.pb").is_file() and (path / "variables").is_dir()
        meta = json.loads((path / "metadata.json").read_text())
        assert meta["name"] == task and meta["version"] == 1 and meta["format"] == 2
        assert meta["statistics"]["computed_on"] == "train"
        assert {"tensorflow", "keras", "numpy", "python"} <= set(meta["libraries"])
        assert meta["config"]["task"] == task and "test" in meta["metrics"]
        assert (path / "predictions.png").stat().st_size > 1000


def test_a_new_export_adds_a_version(tmp_path):
    first = train_tiny("classify", tmp_path, epochs=1)
    second = train_tiny("classify", tmp_path, epochs=1)
    assert (first.name, second.name) == ("1", "2")
    assert next_version(tmp_path / "classify") == 3
    assert not [p for p in (tmp_path / "classify").iterdir() if p.name.startswith(".")]


def test_savedmodel_output_equals_the_keras_models(tmp_path):
    trained = train("sine", verbose=0, epochs=1, units=4, train_windows=64, val_windows=16,
                    test_windows=16)  # fmt: skip
    x = np.linspace(1.0, 3.0, 40, dtype="float32").reshape(2, 20, 1)
    keras_out = trained.model.predict(x, verbose=0)
    path = export(trained, tmp_path)
    served = load_serving(path)(window=tf.constant(x))["y"].numpy()
    np.testing.assert_allclose(served, keras_out, rtol=1e-5, atol=1e-6)


def test_stock_export_takes_raw_rows_and_answers_in_price_units(tiny_exports):
    meta = json.loads((tiny_exports["stock"] / "metadata.json").read_text())
    serve = load_serving(tiny_exports["stock"])
    close = np.linspace(2000, 2100, 20)
    rows = np.stack([close - 1, close + 5, close - 5, close, np.full(20, 3e9)], axis=-1)
    assert meta["input"]["features"] == ["open", "high", "low", "close", "volume"]
    out = serve(window=tf.constant(rows[None], tf.float32))["next_close"].numpy()
    assert out.shape == (1, 1)
    assert abs(out[0, 0] / close[-1] - 1) < 0.2  # a next-day close, not a z-score
    # scale-free: the same window at ten times the price level gives ten times the forecast
    rows10 = rows * np.array([10, 10, 10, 10, 1])
    out10 = serve(window=tf.constant(rows10[None], tf.float32))["next_close"].numpy()
    np.testing.assert_allclose(out10, out * 10, rtol=1e-4)
