"""Progress on long runs: one bar per model, epochs done, with the latest losses."""

from __future__ import annotations

import keras
from tqdm.auto import tqdm


class EpochBar(keras.callbacks.Callback):
    """A tqdm bar over the epoch budget; early stopping simply leaves it short of the total."""

    def __init__(self, name: str, epochs: int):
        super().__init__()
        self.name, self.epochs, self.bar = name, epochs, None

    def on_train_begin(self, logs=None):
        self.bar = tqdm(total=self.epochs, desc=f"{self.name:<8}", unit="epoch", leave=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.bar.set_postfix(loss=f"{logs.get('loss', float('nan')):.4g}",
                             val_loss=f"{logs.get('val_loss', float('nan')):.4g}")  # fmt: skip
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()


def tensorboard(log_dir, name: str) -> keras.callbacks.Callback:
    """TensorBoard logs under `log_dir/<name>`; needs the `tensorboard` package to write them."""
    try:
        import tensorboard as _  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            "--tensorboard needs the tensorboard package: pip install -e '.[train]'"
        ) from exc
    return keras.callbacks.TensorBoard(log_dir=str(log_dir / name))
