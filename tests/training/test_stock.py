import keras
import numpy as np
import pandas as pd
import pytest
from keras import ops

from artifact.scorecard import mape
from training.data import load_default
from training.models import ScaleFree
from training.train import train
from training.windows import chronological_split


def scale_free_stats(inputs):
    features = ops.convert_to_numpy(ScaleFree(["open", "high", "low", "close", "volume"])(
        ops.convert_to_tensor(inputs.astype("float32"))))  # fmt: skip
    flat = features.reshape(-1, features.shape[-1])
    return flat.mean(axis=0)


@pytest.fixture(scope="module")
def tiny_stock():
    return train("stock", verbose=0, epochs=1, units=4)


def test_normalisation_statistics_come_from_the_training_split_only(tiny_stock):
    frame = load_default().frame
    config = tiny_stock.config
    train_split, _, test_split = chronological_split(
        frame.to_numpy(), frame["close"].to_numpy(), frame.index.to_numpy(), config.window,
        config.val_fraction, config.test_fraction)  # fmt: skip
    layers = tiny_stock.model.layers
    norm = next(x for x in layers if isinstance(x, keras.layers.Normalization))
    in_graph = np.asarray(norm.mean).ravel()
    np.testing.assert_allclose(in_graph, scale_free_stats(train_split.inputs), rtol=1e-4, atol=1e-6)
    assert not np.allclose(in_graph, scale_free_stats(test_split.inputs), rtol=1e-3, atol=1e-5)
    stored = tiny_stock.metadata["statistics"]["inputs"]["volume"]["mean"]
    assert stored == pytest.approx(in_graph[4], rel=1e-4)


def test_bounds_cover_the_training_period_only(tiny_stock):
    frame = load_default().frame
    last_train = pd.Timestamp(tiny_stock.metadata["data"]["splits"]["train"]["last_target"])
    assert tiny_stock.metadata["bounds"]["close"]["max"] == frame.loc[:last_train, "close"].max()
    assert tiny_stock.metadata["bounds"]["close"]["max"] < frame["close"].max()


def test_the_test_period_lies_above_the_training_range(tiny_stock):
    """The README's claim: the model is scored on price levels it never saw."""
    frame = load_default().frame
    first_test = pd.Timestamp(tiny_stock.metadata["data"]["splits"]["test"]["first_target"])
    test_closes = frame.loc[first_test:, "close"]
    assert test_closes.min() > tiny_stock.metadata["bounds"]["close"]["max"]


def test_mape_is_in_percent():
    assert mape(np.array([100.0, 200.0]), np.array([101.0, 198.0])) == pytest.approx(1.0)


def test_metrics_compare_the_model_with_persistence_on_the_test_period(tiny_stock):
    test = tiny_stock.metadata["metrics"]["test"]
    frame = load_default().frame
    close = frame["close"].to_numpy()
    n = test["windows"]
    naive = mape(close[-n:], close[-n - 1 : -1])  # yesterday's close for each of the last n days
    assert test["persistence_mape"] == pytest.approx(naive)
    assert test["mape_ratio"] == pytest.approx(test["mape"] / test["persistence_mape"])


@pytest.mark.parametrize("index", ["sp500", "nasdaq"])
def test_default_config_does_not_lose_to_persistence_on_real_indices(index, tmp_path):
    """The bar of the foundation issue: model MAPE <= 1.05 x persistence MAPE, unseen period."""
    import importlib

    source = importlib.import_module(f"arch.data.{index}").load()
    path = tmp_path / f"{index}.csv"
    source.drop(columns="Adj Close").to_csv(path, index_label="Date")
    trained = train("stock", csv=path, verbose=0)
    assert trained.metadata["metrics"]["test"]["mape_ratio"] <= 1.05
