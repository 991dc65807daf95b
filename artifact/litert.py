"""The default runtime: the export's `model.tflite`, run by LiteRT, TensorFlow's runtime for it.

The export writes `model.tflite` next to `saved_model.pb` (TF Serving's name for it, read
there with `--prefer_tflite_model`), converted from the same graph and checked against it
(training.lite). For these small LSTMs one call of one window costs 40-150 us against
1.1-1.3 ms through the SavedModel's concrete function (`python -m bench.runtimes`), and
serving it needs neither TensorFlow's import (about 6 s) nor its memory
(docs/performance.md).

A LiteRT interpreter has one input shape at a time and resizing it costs more than a small
call, so each batch size of a power of two up to `BUCKETS[-1]` has its own interpreter,
made and warmed when the version loads; a batch is padded to the next size (its last window
repeated, as inference.pad_to) and the padding's outputs dropped. An interpreter is not
safe across threads: one lock per version serialises its calls (the batcher makes them
from one thread anyway).
"""

import contextlib
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from artifact.metadata import TFLITE, ArtifactError

FILE = TFLITE  # the file this runs, in every version directory that has one

SIGNATURE = "serving_default"
BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # 256: one request's most windows
_announced = threading.Event()  # LiteRT printed its one line about the CPU delegate


def bucket_for(n: int, buckets: Iterable[int]) -> int | None:
    """The smallest bucket holding `n` windows, or None if `n` exceeds them all."""
    return next((b for b in sorted(buckets) if b >= n), None)


def pad_to(batch: np.ndarray, size: int) -> np.ndarray:
    """`batch` grown to `size` rows by repeating its last window (never a zero window,
    which a scale-free model would divide by); the extra rows' outputs are dropped."""
    if len(batch) == size:
        return batch
    return batch[np.minimum(np.arange(size), len(batch) - 1)]


Outputs = dict[str, np.ndarray]  # output name -> (batch, ...) array


@contextlib.contextmanager
def first_delegate_unannounced():
    """LiteRT's runtime writes "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." to
    the process's stderr, once, from C++ (no Python setting reaches its logger), which would
    be the one line of the log that is not JSON. The first interpreter is made with file
    descriptor 2 pointed at /dev/null; at start-up nothing else writes then (the event loop
    waits for the models), and later interpreters print nothing."""
    if _announced.is_set():
        yield
        return
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
        _announced.set()  # (an interpreter that failed may not have got as far as the line)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class LiteFunction:
    """A numpy-in, numpy-out call of `model.tflite`'s serving signature (named outputs)."""

    def __init__(self, path: Path, window: int, n_features: int, threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.path, self.shape = path, (window, n_features)
        self.threads = threads if threads > 0 else None  # 0: LiteRT's own choice
        self.lock = threading.Lock()
        self.runners: dict[int, Any] = {}
        try:
            for size in BUCKETS:  # each made and run once, so its first request pays nothing
                with first_delegate_unannounced():
                    interpreter = Interpreter(model_path=str(path), num_threads=self.threads)
                    runner = interpreter.get_signature_runner(SIGNATURE)
                    if not self.runners:  # one file, so one check of its signature
                        self.input = self._input_of(runner)
                    runner(**{self.input: np.ones((size, *self.shape), np.float32)})
                self.runners[size] = runner
        except ArtifactError:
            raise
        except ValueError as exc:  # not a flatbuffer, no such signature, a shape it refuses
            raise ArtifactError(f"{path}: LiteRT cannot run it ({exc})") from None
        self.names = tuple(self.runners[BUCKETS[0]].get_output_details())

    def _input_of(self, runner: Any) -> str:
        """The signature's one input, whose shape must be `(batch, window, features)`."""
        inputs = runner.get_input_details()
        if len(inputs) != 1:
            raise ArtifactError(f"{self.path}: {SIGNATURE} takes {len(inputs)} inputs, not 1")
        ((name, detail),) = inputs.items()
        found = [int(d) for d in detail["shape_signature"][1:]]
        if found != list(self.shape):
            raise ArtifactError(f"{self.path}: the input is (batch, {found}), the metadata's "
                                f"window and features are {list(self.shape)}")  # fmt: skip
        return name

    def __call__(self, batch: np.ndarray) -> Outputs:
        n = len(batch)
        size = bucket_for(n, BUCKETS)
        if size is None:  # larger than one request may be (the evaluate route chunks below it)
            parts = [self(batch[i : i + BUCKETS[-1]]) for i in range(0, n, BUCKETS[-1])]
            return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        padded = pad_to(np.asarray(batch, np.float32), size)
        with self.lock:
            output = self.runners[size](**{self.input: padded})
        return output if size == n else {name: value[:n] for name, value in output.items()}
