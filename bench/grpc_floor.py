"""Where a gRPC call's time goes: `python -m bench.grpc_floor` (about 2 minutes).

Four servers, each driven with the benchmark's load for one stock window at 64 in flight,
taking turns for `--rounds` rounds so they share the machine's conditions:

- `rest`: the shipped service's `/predict/stock` (wrk, 64 connections), the bar;
- `grpc`: the shipped service's gRPC `ModelInfer` (h2load, 64 calls in flight);
- `grpc, calls held 3 ms`: the same with BATCH_WORKER=thread and BATCH_MAX_WAIT_MS=3, so
  gRPC calls share model calls (the windows per call are read from `/metrics`);
- `grpc floor`: this module's app, the shipped app whose `ModelInfer` answers every call
  with the message its first call answered (the same bytes, so the same framing), without
  decoding the request or running the codec or the model: what grpc.aio itself costs.

Prints each run, then the median of each server's req/s and its ratio to `rest`.
"""

import argparse
import statistics
import urllib.request

from bench import h2load, harness
from bench.bodies import ENDPOINTS, as_json
from service.grpc import kserve, server
from service.main import create_app

STREAMS = 64
QUIET = {"RELOAD_INTERVAL_S": "0"}
HELD = {"BATCH_WORKER": "thread", "BATCH_MAX_WAIT_MS": "3"}


class Replayed(kserve.InferenceService):
    """ModelInfer that answers every call with the first call's answer."""

    answer = None

    async def ModelInfer(self, request, context):
        if Replayed.answer is None:
            Replayed.answer = await super().ModelInfer(request, context)
        return Replayed.answer


def floor_app():
    """The shipped app, its gRPC server serving `Replayed` (`uvicorn bench.grpc_floor:app`)."""
    server.InferenceService = Replayed
    return create_app()


def __getattr__(name: str):  # `app` is built only when uvicorn asks for it
    if name == "app":
        return floor_app()
    raise AttributeError(name)


def metrics_of(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return response.read().decode()


def windows_per_call(metrics: str, model: str = "stock") -> float:
    """Windows over model calls of `model` so far, from the text of `/metrics`."""
    found = {}
    for line in metrics.splitlines():
        for part in ("sum", "count"):
            if line.startswith(f'lstm_model_batch_size_{part}{{model="{model}"}} '):
                found[part] = float(line.split()[-1])
    return found["sum"] / found["count"] if found.get("count") else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    wrk, h2 = harness.ensure_wrk(), h2load.ensure_h2load()
    body = as_json(ENDPOINTS["/predict/stock"])
    grpc_env = lambda extra: {**QUIET, **extra, "GRPC_PORT": str(harness.free_port())}  # noqa: E731
    servers = {
        "rest": harness.Server(harness.SERVICE, QUIET, ("--no-access-log",)),
        "grpc": harness.Server(harness.SERVICE, grpc_env({})),
        "grpc, calls held 3 ms": harness.Server(harness.SERVICE, grpc_env(HELD)),
        "grpc floor": harness.Server("bench.grpc_floor:app", grpc_env({}), ("--no-access-log",)),
    }
    rates: dict[str, list[float]] = {name: [] for name in servers}
    try:
        for s in servers.values():
            s.start()
        for round_ in range(1, args.rounds + 1):
            for name, s in servers.items():
                if name == "rest":
                    r = harness.wrk(wrk, f"{s.url}/predict/stock", body, STREAMS, args.seconds)
                else:
                    r = h2load.run(h2, int(s.env["GRPC_PORT"]), s.url, STREAMS, args.seconds)
                    if r["errors"]:
                        raise RuntimeError(f"{name}: {r['errors']} calls failed: {r}")
                harness.settle(s.process.pid)
                rates[name].append(r["rps"])
                print(f"round {round_}  {name:22s} {r['rps']:7,.0f} req/s  "
                      f"p99 {r['p99_ms']:6.1f} ms", flush=True)  # fmt: skip
        batched = (n for n in servers if n != "grpc floor")
        per_call = {n: windows_per_call(metrics_of(servers[n].url)) for n in batched}
    finally:
        for s in servers.values():
            s.stop()
    bar = statistics.median(rates["rest"])
    print(f"\nmedian of {args.rounds} rounds of {args.seconds:g} s at {STREAMS} in flight:")
    for name, found in rates.items():
        rate = statistics.median(found)
        calls = f"{per_call[name]:.2f} windows a model call" if name in per_call else ""
        print(f"  {name:22s} {rate:7,.0f} req/s  {rate / bar:5.2f} x rest  {calls}")


if __name__ == "__main__":
    main()
