"""Load one version directory into memory, checked completely before it may serve.

The metadata must parse against its schema (artifact.metadata) and name the model
directory it sits in; the graph's outputs must be the ones the metadata lists, with their
shapes; and a warm-up window goes through the graph and the whole answer path
(service.core.dataplane.answer), so a version that would fail on the first request fails here.
"""

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

import artifact
from artifact import litert
from artifact.litert import LiteFunction
from artifact.metadata import ArtifactError, Spec
from service.core import dataplane, inference, inputs
from service.core.errors import InputError
from service.core.inference import Outputs, ServingFunction

log = logging.getLogger(__name__)


def load(
    path: Path, options: inference.Options = inference.DEFAULTS
) -> tuple[Spec, LiteFunction | ServingFunction]:
    """The spec and warmed serving function of `<models_dir>/<name>/<version>/`."""
    name = path.parent.name
    spec = artifact.read(path)
    if spec.name != name:
        raise ArtifactError(f"{path}: the export is of model {spec.name!r}, not {name!r}")
    serve = graph(path, spec, options)
    if set(serve.names) != set(spec.outputs):
        found, listed = sorted(serve.names), sorted(spec.outputs)
        raise ArtifactError(f"{path}: the graph's outputs {found} are not the metadata's {listed}")
    warm_up(spec, serve, path)
    return spec, serve


def graph(path: Path, spec: Spec, options: inference.Options) -> LiteFunction | ServingFunction:
    """The version's `model.tflite` run by LiteRT (the default runtime), else its SavedModel
    run by TensorFlow (INFERENCE_RUNTIME=tensorflow, or an export without model.tflite)."""
    shape = (spec.window, len(spec.features))
    lite = path / litert.FILE
    if options.runtime == "litert":
        if lite.is_file():
            return LiteFunction(lite, *shape, options.intra_op)
        log.info("%s: no %s, so TensorFlow serves its SavedModel (`python -m training lite` "
                 "adds the file)", path, litert.FILE)  # fmt: skip
    loaded = inference.tensorflow(options).saved_model.load(str(path))
    return ServingFunction(loaded, *shape, options)


def warm_up(spec: Spec, serve: Callable[[np.ndarray], Outputs], path: Path) -> None:
    """Two valid windows through the graph and the answer path, warnings included.

    Two, so an output whose first axis is not the batch shows; ones satisfy every input rule.
    """
    n = 2
    batch = inputs.windows(spec, np.ones((n, *spec.input_shape)))
    outputs = serve(batch)
    for name, tensor in spec.outputs.items():
        got = outputs[name].shape
        want = (n, *tensor.shape[1:])
        fits = len(got) == len(want) and all(w in (None, g) for g, w in zip(got, want, strict=True))
        if not fits:
            raise ArtifactError(f"{path}: output {name!r} has shape {list(got)}, metadata says "
                                f"{tensor.shape} (a batch of {n})")  # fmt: skip
    try:
        dataplane.answer(spec.name, 0, spec, outputs)
    except InputError:
        raise ArtifactError(f"{path}: the outputs for the warm-up windows are not finite") from None
    past = np.full(outputs[spec.drift_score].shape, spec.drift.threshold + 1, np.float32)
    dataplane.warnings(spec, outputs[spec.drift_value], past)  # one warning per window and feature
