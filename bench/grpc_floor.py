"""Where a gRPC call's time goes: `python -m bench.grpc_floor` (about 2 minutes).

Five servers, each driven with the benchmark's load for one stock window at 64 in flight,
taking turns for `--rounds` rounds so they share the machine's conditions:

- `rest`: the shipped service's `/predict/stock` (wrk, 64 connections), the bar;
- `grpc`: the shipped service's gRPC `ModelInfer` (h2load, 64 calls in flight);
- `grpc, calls held 3 ms`: the same with BATCH_WORKER=thread and BATCH_MAX_WAIT_MS=3, so
  gRPC calls share model calls (the windows per call are read from `/metrics`);
- `grpc floor`: this module's app, the shipped app whose `ModelInfer` answers every call
  with the message its first call answered (the same bytes, so the same framing), without
  decoding the request or running the codec or the model: what grpc.aio itself costs;
- `rest floor`: this module's ASGI app under uvicorn (httptools, uvloop), answering every
  POST with the bytes `rest` answered the window, its body read and dropped: what uvicorn
  itself costs.

Prints each run, then the median of each server's req/s, its ratio to `rest`, and the time a
call of `rest` and of `grpc` takes above its transport's floor (1/rate - 1/floor: the
service's own work, while the event loop's thread is the bottleneck). The windows a model call
and a model call's mean time are read from each service's `/metrics` after the rounds.
"""

import argparse
import os
import statistics
import tempfile
import urllib.request
from pathlib import Path

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


def rest_floor_app():
    """Every request answered 200 with the bytes of the file REST_FLOOR_ANSWER, its body read
    and dropped (`uvicorn bench.grpc_floor:rest_app`)."""
    answer = Path(os.environ["REST_FLOOR_ANSWER"]).read_bytes()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    body = {"type": "http.response.body", "body": answer}

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":  # nothing to start or stop
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        await send(start)
        await send(body)

    return app


def __getattr__(name: str):  # each app is built only when uvicorn asks for it
    if name == "app":
        return floor_app()
    if name == "rest_app":
        return rest_floor_app()
    raise AttributeError(name)


def answer_of(url: str, body: str) -> bytes:
    """The bytes `url` answers to a POST of `body` (JSON)."""
    request = urllib.request.Request(url, body.encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def metrics_of(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return response.read().decode()


def mean_of(metrics: str, histogram: str, model: str = "stock") -> float:
    """A histogram's mean for `model` so far (its sum over its count), from `/metrics`."""
    found = {}
    for line in metrics.splitlines():
        for part in ("sum", "count"):
            if line.startswith(f'{histogram}_{part}{{model="{model}"}} '):
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
    answer = tempfile.NamedTemporaryFile(prefix="rest-floor-", suffix=".json")  # noqa: SIM115
    quiet = ("--no-access-log", "--log-level", "warning")
    floor_env = {"REST_FLOOR_ANSWER": answer.name}
    servers["rest floor"] = harness.Server("bench.grpc_floor:rest_app", floor_env, quiet)
    rates: dict[str, list[float]] = {name: [] for name in servers}
    try:
        servers["rest"].start()
        answer.write(answer_of(f"{servers['rest'].url}/predict/stock", body))
        answer.flush()
        for s in servers.values():
            if s is not servers["rest"]:
                s.start()
        for round_ in range(1, args.rounds + 1):
            for name, s in servers.items():
                if name.startswith("rest"):
                    r = harness.wrk(wrk, f"{s.url}/predict/stock", body, STREAMS, args.seconds)
                else:
                    r = h2load.run(h2, int(s.env["GRPC_PORT"]), s.url, STREAMS, args.seconds)
                    if r["errors"]:
                        raise RuntimeError(f"{name}: {r['errors']} calls failed: {r}")
                harness.settle(s.process.pid)
                rates[name].append(r["rps"])
                print(f"round {round_}  {name:22s} {r['rps']:7,.0f} req/s  "
                      f"p99 {r['p99_ms']:6.1f} ms", flush=True)  # fmt: skip
        batched = (n for n in servers if "floor" not in n)
        scraped = {n: metrics_of(servers[n].url) for n in batched}
    finally:
        for s in servers.values():
            s.stop()
        answer.close()
    median = {name: statistics.median(found) for name, found in rates.items()}
    print(f"\nmedian of {args.rounds} rounds of {args.seconds:g} s at {STREAMS} in flight:")
    for name, rate in median.items():
        calls = ""
        if name in scraped:
            windows = mean_of(scraped[name], "lstm_model_batch_size")
            seconds = mean_of(scraped[name], "lstm_model_inference_seconds")
            calls = f"{windows:.2f} windows a model call of {seconds * 1e6:.0f} us"
        print(f"  {name:22s} {rate:7,.0f} req/s  {rate / median['rest']:5.2f} x rest  {calls}")
    print("\nus a call above its transport's floor (1/rate - 1/floor):")
    for name in ("rest", "grpc"):
        floor = median[f"{name} floor"]
        above = 1e6 / median[name] - 1e6 / floor
        print(f"  {name:22s} {above:5.0f} us  (floor {1e6 / floor:.0f} us)")


if __name__ == "__main__":
    main()
