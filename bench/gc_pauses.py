"""`python -m bench.gc_pauses`: the garbage collector's pauses in `python -m service` under load.

Starts the shipped service twice, with its start-up `gc.freeze()` and without it, each with
a `gc.callbacks` timer, drives `/predict/stock` with wrk (64 connections, `--seconds`), stops
it and prints every generation's collections: how many, median, largest and total pause.
A full collection (generation 2) scans every object the collector tracks, so without the
freeze it scans everything the imports and the models left, at every one.
"""

import argparse
import atexit
import gc
import json
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from bench.bodies import ENDPOINTS, as_json

ROOT = Path(__file__).resolve().parent.parent


def serve(port: str, out: str, freeze: str) -> None:
    """In the child: time every collection, then run the service as `python -m service`."""
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def timer(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    def write() -> None:
        Path(out).write_text(json.dumps(pauses))

    if freeze == "off":
        gc.freeze = lambda: None
    gc.callbacks.append(timer)
    atexit.register(write)
    sys.argv = ["service", "--host", harness.HOST, "--port", port]
    runpy.run_module("service", run_name="__main__")


def measure(freeze: str, seconds: float, wrk: str) -> list[tuple[int, float]]:
    port = str(harness.free_port())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pauses.json"
        env = {**os.environ, "RELOAD_INTERVAL_S": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [sys.executable, "-m", "bench.gc_pauses", "--serve", port, str(out), freeze]
        with open(Path(tmp) / "log", "w") as log:
            process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
            url = f"http://{harness.HOST}:{port}"
            try:
                deadline = time.monotonic() + 120
                while harness.get(f"{url}/health/ready", timeout=1) != 200:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the service did not start: {out.parent / 'log'}")
                    time.sleep(0.05)
                body = as_json(ENDPOINTS["/predict/stock"])
                result = harness.wrk(wrk, f"{url}/predict/stock", body, 64, seconds)
            finally:
                process.terminate()
                process.wait(30)
        print(f"gc.freeze {freeze}: {result['rps']:,.0f} req/s, "
              f"p99 {result['p99_ms']:.1f} ms")  # fmt: skip
        return [tuple(p) for p in json.loads(out.read_text())]


def table(pauses: list[tuple[int, float]]) -> str:
    lines = ["| generation | collections | median ms | max ms | total ms |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for generation in sorted({g for g, _ in pauses}):
        times = [t for g, t in pauses if g == generation]
        lines.append(f"| {generation} | {len(times)} | {statistics.median(times):.2f} | "
                     f"{max(times):.2f} | {sum(times):.0f} |")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.gc_pauses", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    wrk = harness.ensure_wrk()
    for freeze in ("on", "off"):
        pauses = measure(freeze, args.seconds, wrk)
        print(table(pauses), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
