"""`python -m bench.runtimes`: one model call under each runtime, microseconds, no HTTP.

Loads the newest version of each committed model twice, as the service does (LiteRT from
its `model.tflite`, TensorFlow from its SavedModel: service.core.loader), and times calls of
1, 64 and 256 windows (medians over `--calls` calls after a warm-up, the runtimes taking
turns per batch size), on windows of constant positive rows.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from service.core import inference, loader
from service.core.repository import Repository

SIZES = (1, 64, 256)


def median_us(serve, batch: np.ndarray, calls: int) -> float:
    for _ in range(10):
        serve(batch)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        serve(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runtimes", description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    repository = Repository(args.models)
    print("| model | windows | LiteRT us | TensorFlow us | TensorFlow / LiteRT |")
    print("|---|---:|---:|---:|---:|")
    for name, versions in sorted(repository.listing().items()):
        path = repository.path(name, versions[0])
        spec, lite = loader.load(path)
        _, tf = loader.load(path, inference.Options(runtime="tensorflow"))
        rng = np.random.default_rng(0)
        for n in SIZES:
            level = rng.uniform(0.5, 1.5, (n, 1, len(spec.features)))
            batch = (level * np.ones((n, *spec.input_shape))).astype(np.float32)
            fast, slow = median_us(lite, batch, args.calls), median_us(tf, batch, args.calls)
            print(f"| {name} | {n} | {fast:,.0f} | {slow:,.0f} | {slow / fast:.1f} x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
