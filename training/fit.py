"""What every task shares: the trained-model record, seeding, and the fitting loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from training import progress
from training.config import TrainConfig


@dataclass
class Trained:
    """A fitted serving model plus what the export writes beside it."""

    config: TrainConfig
    model: keras.Model  # raw inputs -> raw-scale outputs
    metadata: dict  # task-specific metadata.json sections (input, output, metrics, ...)
    history: dict[str, list[float]]
    seconds: float = 0.0
    curves: dict[str, np.ndarray] = field(default_factory=dict)  # test-period series for charts


def seed_everything(seed: int) -> None:
    """Same seed, same weights and same metrics: seeds Python, NumPy and TF, deterministic ops."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def fit(model, train, validation, config: TrainConfig, loss: str, verbose: int) -> dict:
    """Adam + early stopping on the validation loss, keeping the best epoch's weights.

    verbose: 0 silent, 1 a progress bar per model, 2 Keras's line per epoch.
    """
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    slower = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
    history = model.fit(
        *train,
        validation_data=validation,
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,  # within the training split only
        callbacks=[stop, slower, *_extra_callbacks(config, verbose)],
        verbose=2 if verbose == 2 else 0,
    )
    return {k: [float(v) for v in vs] for k, vs in history.history.items() if k != "learning_rate"}


def _extra_callbacks(config: TrainConfig, verbose: int) -> list:
    extra = [progress.EpochBar(config.task, config.epochs)] if verbose == 1 else []
    if config.tensorboard:
        extra.append(progress.tensorboard(Path(config.tensorboard), config.task))
    return extra
