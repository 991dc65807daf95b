"""The TensorFlow runtime (INFERENCE_RUNTIME=tensorflow, or a version without model.tflite):
the SavedModel's concrete serving function, called directly.

`loaded.serve(x)` goes through the restored `tf.function`'s argument matching on every
call; the concrete function for `(None, window, features)` skips that (about half the
time for one window on 2 cores). XLA (`jit_compile=True`) makes the call itself faster
again but needs a fixed batch size, so batches are padded to a few bucket sizes, each
compiled during warm-up; it is off by default because compiling the buckets costs
seconds of start-up and about 100 MB of resident memory (docs/performance.md).
"""

import importlib.util
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from artifact.litert import Outputs, bucket_for, pad_to

log = logging.getLogger(__name__)

DEFAULT_BUCKETS = (1, 4, 16, 64, 256)  # XLA batch sizes; 256 = the window limit of one request


@dataclass(frozen=True)
class Options:
    """How a version's graph runs (from Settings: INFERENCE_RUNTIME, TF_INTRA_OP_THREADS,
    TF_INTER_OP_THREADS, INFERENCE_XLA, INFERENCE_BUCKETS; the last two for TensorFlow only)."""

    runtime: str = "litert"  # "litert": model.tflite when the version has one; "tensorflow"
    intra_op: int = 1  # threads per op (LiteRT's num_threads); 0 = the runtime's default
    inter_op: int = 1  # TensorFlow's concurrent ops
    xla: bool = False
    buckets: tuple[int, ...] = DEFAULT_BUCKETS


DEFAULTS = Options()


INSTALL = "pip install '.[train]'"  # TensorFlow is in the train extra, not in serving's deps


class MissingTensorFlow(RuntimeError):
    """A SavedModel must run and TensorFlow is not installed (the image has none)."""


def tensorflow_missing(runtime: str) -> str | None:
    """Why `runtime` cannot run here, if it cannot: checked at start-up, before anything
    loads, without importing TensorFlow (about 6 s) just to find it."""
    if runtime != "tensorflow":
        return None
    try:
        found = importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return (f"INFERENCE_RUNTIME=tensorflow: TensorFlow is not installed; install the train "
            f"extra ({INSTALL}) or serve model.tflite with INFERENCE_RUNTIME=litert")  # fmt: skip


def tensorflow(options: Options):
    """TensorFlow, imported on first need (about 6 s), its thread pools set before its first op."""
    try:
        import tensorflow as tf
    except ImportError:
        raise MissingTensorFlow(
            f"TensorFlow is not installed ({INSTALL}): it runs a SavedModel, needed for "
            f"INFERENCE_RUNTIME=tensorflow or a version without model.tflite"
        ) from None

    try:
        tf.config.threading.set_intra_op_parallelism_threads(options.intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(options.inter_op)
    except RuntimeError:  # its runtime started already (a second app in one process: tests)
        log.debug("TensorFlow threads already configured; keeping the existing pools")
    return tf


class ServingFunction:
    """A numpy-in, numpy-out call of the export's serving function (named outputs)."""

    def __init__(self, loaded: Any, window: int, n_features: int, options: Options) -> None:
        import tensorflow as tf

        self.loaded = loaded  # holds the variables the concrete functions read
        self.constant = tf.constant
        shape = (window, n_features)
        self.concrete = loaded.serve.get_concrete_function(tf.TensorSpec([None, *shape]))
        outputs = self.concrete.structured_outputs
        self.names = tuple(outputs) if isinstance(outputs, dict) else ()
        self.compiled = {}
        if options.xla:
            jitted = tf.function(self.concrete, jit_compile=True)
            for size in sorted(set(options.buckets)):
                spec = tf.TensorSpec([size, *shape], tf.float32)
                self.compiled[size] = jitted.get_concrete_function(spec)
        for size in self.compiled or [1]:  # warm-up: compile every bucket before readiness
            self(np.ones((size, *shape), dtype=np.float32))

    def __call__(self, batch: np.ndarray) -> Outputs:
        size = bucket_for(len(batch), self.compiled)
        if size is None:  # no XLA, or larger than every bucket: dynamic shape, unpadded
            return _numpy(self.concrete(self.constant(batch, dtype=np.float32)), len(batch))
        output = self.compiled[size](self.constant(pad_to(batch, size), dtype=np.float32))
        return _numpy(output, len(batch))


def _numpy(output: Any, n: int) -> Outputs:
    if not isinstance(output, dict):  # an export without named outputs (the loader refuses it)
        return {"output_0": output.numpy()[:n]}
    return {name: tensor.numpy()[:n] for name, tensor in output.items()}
