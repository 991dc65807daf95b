"""`model.tflite` beside each SavedModel: the same graph for LiteRT, checked against it.

The export converts its SavedModel with TensorFlow's converter (built-in ops only, float32,
no quantisation) and runs both on probe windows; the file is written only if every named
output agrees within `TOLERANCE`, and the check goes into metadata.json's `litert` section.
The service runs `model.tflite` by default and the SavedModel for a version without one.

`python -m training lite MODELS_DIR`: add the file to every version that lacks it (exports
made before it existed); nothing else in those versions changes but metadata.json's section.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from artifact.litert import first_delegate_unannounced
from artifact.metadata import METADATA, SAVED_MODEL, TFLITE

FILE = TFLITE
TOLERANCE = 1e-4  # largest |LiteRT - TensorFlow| / max(1, |TensorFlow|) over the probe windows
PROBES = 64


class LiteError(RuntimeError):
    """The converted graph does not answer as the SavedModel does; no file is written."""


def probe_windows(window: int, n_features: int, seed: int = 0) -> np.ndarray:
    """`PROBES` smooth positive windows `(PROBES, window, n_features)` around 1: inside every
    input rule's domain (positive values; the ratios of stock rows near 1)."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.5, 1.5, (PROBES, 1, n_features))
    walk = np.cumsum(rng.normal(0, 0.01, (PROBES, window, n_features)), axis=1)
    return (level * np.exp(walk)).astype(np.float32)


def relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    """The largest |got - want| / max(1, |want|): absolute for small values, relative above 1."""
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def convert(version_dir: Path) -> tuple[bytes, dict]:
    """The flatbuffer of `version_dir`'s SavedModel and the check that it answers the same."""
    loaded = tf.saved_model.load(str(version_dir))
    serve = loaded.signatures["serving_default"]
    (spec,) = serve.structured_input_signature[1].values()
    window, n_features = spec.shape[1:]
    flatbuffer = tf.lite.TFLiteConverter.from_saved_model(str(version_dir)).convert()
    from ai_edge_litert.interpreter import Interpreter

    probes = probe_windows(window, n_features)
    want = {k: v.numpy() for k, v in serve(tf.constant(probes)).items()}
    with first_delegate_unannounced():  # LiteRT's C++ "INFO: Created ... delegate" line
        runner = Interpreter(model_content=flatbuffer, num_threads=1).get_signature_runner()
        (input_name,) = runner.get_input_details()
        got = runner(**{input_name: probes})
    if set(got) != set(want):
        raise LiteError(f"{version_dir}: LiteRT's outputs {sorted(got)} are not {sorted(want)}")
    worst = max(relative_difference(got[k], v) for k, v in want.items())
    if not worst <= TOLERANCE:
        raise LiteError(f"{version_dir}: LiteRT differs from TensorFlow by {worst:.2e} "
                        f"(relative), over the tolerance {TOLERANCE:.0e}")  # fmt: skip
    check = {"file": FILE, "probe_windows": PROBES, "max_relative_difference": worst,
             "tolerance": TOLERANCE, "tensorflow": tf.__version__}  # fmt: skip
    return flatbuffer, check


def write(version_dir: Path) -> dict:
    """Write `version_dir/model.tflite`; returns the check for metadata.json's `litert`."""
    flatbuffer, check = convert(version_dir)
    (version_dir / FILE).write_bytes(flatbuffer)
    return check


def add_to_existing(models_dir: Path) -> list[Path]:
    """`model.tflite` (and metadata.json's `litert`) for every version of `models_dir` without
    one; each file is written beside its final name first and then renamed into place."""
    done = []
    for version_dir in sorted(models_dir.glob("*/*")):
        if not (version_dir / SAVED_MODEL).is_file() or (version_dir / FILE).exists():
            continue
        flatbuffer, check = convert(version_dir)
        meta_file = version_dir / METADATA
        meta = json.loads(meta_file.read_text())
        meta["litert"] = check
        _replace(version_dir / FILE, flatbuffer)
        _replace(meta_file, (json.dumps(meta, indent=2) + "\n").encode())
        done.append(version_dir)
    return done


def _replace(path: Path, content: bytes) -> None:
    fd, staged = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "wb") as stream:
        stream.write(content)
    os.replace(staged, path)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m training lite MODELS_DIR\n\nAdd model.tflite (the same graph "
              "for LiteRT, checked against the SavedModel) to every version without one.",
              file=sys.stderr)  # fmt: skip
        return 2
    models_dir = Path(argv[0])
    if not models_dir.is_dir():
        print(f"error: {models_dir} is not a directory", file=sys.stderr)
        return 2
    try:
        done = add_to_existing(models_dir)
    except LiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in done:
        print(f"wrote {path / FILE}")
    print(f"{len(done)} version(s) converted")
    return 0
