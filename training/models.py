"""Keras 3 model builders. Preprocessing lives inside the graph, so the export takes raw inputs."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

PRICES = ("open", "high", "low", "close")
VOLUMES = ("volume", "money")


@keras.saving.register_keras_serializable(package="training")
class ScaleFree(layers.Layer):
    """Raw daily rows -> features that do not depend on the price level.

    Prices become log(p / last close of the window), volumes log((v + 1) / (window mean + 1)),
    `change` (already a percentage) passes through. A model on these features works the same at
    any index level: the article's failure on later, higher prices cannot happen.
    """

    def __init__(self, features: list[str], **kwargs):
        super().__init__(**kwargs)
        self.features = list(features)
        self.close_index = self.features.index("close")

    def call(self, rows):  # (batch, window, F) -> (batch, window, F)
        last_close = rows[:, -1:, self.close_index : self.close_index + 1]  # (batch, 1, 1)
        columns = []
        for i, name in enumerate(self.features):
            column = rows[..., i : i + 1]
            if name in PRICES:
                column = ops.log(column / last_close)
            elif name in VOLUMES:
                column = ops.log((column + 1.0) / (ops.mean(column, axis=1, keepdims=True) + 1.0))
            columns.append(column)
        return ops.concatenate(columns, axis=-1)

    def get_config(self):
        return {**super().get_config(), "features": self.features}


@keras.saving.register_keras_serializable(package="training")
class NextClose(layers.Layer):
    """(raw rows, normalised log-return) -> next close in price units: last close * exp(return)."""

    def __init__(self, close_index: int, mean: float, std: float, **kwargs):
        super().__init__(**kwargs)
        self.close_index, self.mean, self.std = close_index, float(mean), float(std)

    def call(self, rows, scaled_return):  # (batch, window, F), (batch, 1) -> (batch, 1)
        last_close = rows[:, -1, self.close_index : self.close_index + 1]
        return last_close * ops.exp(scaled_return * self.std + self.mean)

    def get_config(self):
        return {**super().get_config(), "close_index": self.close_index, "mean": self.mean,
                "std": self.std}  # fmt: skip


def normalization(features: np.ndarray) -> layers.Normalization:
    """A Normalization layer fixed to the per-feature mean and variance of training `features`."""
    flat = features.reshape(-1, features.shape[-1])
    return layers.Normalization(axis=-1, mean=flat.mean(axis=0), variance=flat.var(axis=0) + 1e-12)


def stock_models(features, train_inputs, target_mean, target_std, units):
    """(fit model: raw rows -> scaled log-return, serving model: raw rows -> next close)."""
    window, n_features = train_inputs.shape[1:]
    rows = keras.Input((window, n_features), name="window")
    scale_free = ScaleFree(features, name="scale_free")
    train_features = ops.convert_to_numpy(scale_free(ops.convert_to_tensor(train_inputs)))
    hidden = normalization(train_features)(scale_free(rows))
    hidden = layers.LSTM(units)(hidden)
    scaled_return = layers.Dense(1)(hidden)
    fit_model = keras.Model(rows, scaled_return, name="stock_fit")
    close_index = list(features).index("close")
    next_close = NextClose(close_index, target_mean, target_std)(rows, scaled_return)
    return fit_model, keras.Model(rows, next_close, name="stock"), train_features


def spread_tanh(units: int) -> layers.Dense:
    """A tanh layer on one normalised input whose units bend all across the input's range.

    Keras's default (Glorot kernel, zero bias) starts every unit nearly linear and centred on
    0, so a curve with many turns (five periods of cos on the sine range) is fitted last at the
    ends of the range; slopes ~N(0, 4) and offsets ~U(-6, 6) put the bends everywhere at once.
    """
    return layers.Dense(
        units,
        activation="tanh",
        kernel_initializer=keras.initializers.RandomNormal(stddev=4.0),
        bias_initializer=keras.initializers.RandomUniform(-6.0, 6.0),
    )


def sine_model(train_x: np.ndarray, units: int) -> keras.Model:
    """x window (batch, window, 1) -> cos(x) at every step (batch, window, 1).

    Bidirectional: a one-way LSTM fits the first steps of a window badly (per-step MSE 4e-3 at
    step 0 against 2e-5 later); reading the window both ways gives every step the same context.
    """
    x = keras.Input(train_x.shape[1:], name="window")
    hidden = normalization(train_x)(x)
    hidden = spread_tanh(units)(hidden)
    hidden = layers.Bidirectional(layers.LSTM(units // 2, return_sequences=True))(hidden)
    hidden = layers.Dense(units, activation="tanh")(hidden)
    return keras.Model(x, layers.Dense(1)(hidden), name="sine")


def classify_model(train_x: np.ndarray, units: int) -> keras.Model:
    """x window (batch, window, 1) -> softmax [p(cos(4x) >= 0), p(cos(4x) < 0)] per step.

    Bidirectional, as sine: a one-way LSTM answers a window's first steps with no context and
    placed the class boundary about two steps late (92% on windows straddling a sign change).
    """
    x = keras.Input(train_x.shape[1:], name="window")
    hidden = normalization(train_x)(x)
    hidden = layers.Dense(units, activation="tanh")(hidden)
    hidden = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(hidden)
    return keras.Model(x, layers.Dense(2, activation="softmax")(hidden), name="classify")
