"""Load one version directory into memory, checked completely before it may serve.

The metadata must parse against its schema (service.core.artifact) and name the model
directory it sits in; the graph's outputs must be the ones the metadata lists, with their
shapes; and a warm-up window goes through the graph and the whole answer path
(service.core.dataplane.answer), so a version that would fail on the first request fails here.
"""

from pathlib import Path

import numpy as np

from service.core import artifact, dataplane, inference, inputs
from service.core.artifact import ArtifactError, Spec
from service.core.inference import ServingFunction


def load(
    path: Path, options: inference.Options = inference.DEFAULTS
) -> tuple[Spec, ServingFunction]:
    """The spec and warmed serving function of `<models_dir>/<name>/<version>/`."""
    import tensorflow as tf  # heavy: imported when loading, never at service import

    name = path.parent.name
    spec = artifact.read(path)
    if spec.name != name:
        raise ArtifactError(f"{path}: the export is of model {spec.name!r}, not {name!r}")
    loaded = tf.saved_model.load(str(path))
    serve = ServingFunction(loaded, spec.window, len(spec.features), options)
    if set(serve.names) != set(spec.outputs):
        found, listed = sorted(serve.names), sorted(spec.outputs)
        raise ArtifactError(f"{path}: the graph's outputs {found} are not the metadata's {listed}")
    warm_up(spec, serve, path)
    return spec, serve


def warm_up(spec: Spec, serve: ServingFunction, path: Path) -> None:
    """One valid window through the graph and the answer path; shapes as the metadata says."""
    batch = inputs.windows(spec, np.ones((1, *spec.input_shape)))  # satisfies every input rule
    outputs = serve(batch)
    for name, tensor in spec.outputs.items():
        want = tuple(1 if d is None else d for d in tensor.shape)
        if outputs[name].shape != want:
            got = list(outputs[name].shape)
            raise ArtifactError(f"{path}: output {name!r} has shape {got}, metadata says {want}")
    dataplane.answer(spec.name, 0, spec, outputs)
