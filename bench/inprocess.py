"""`python -m bench.inprocess`: microseconds per request of each variant's app, no network.

Calls each variant's ASGI app directly, the way uvicorn does, with a hand-made ASGI call
(a scope of the same keys, a `receive` that hands over the whole body once, a `send` that
collects the answer) on uvloop when it is installed, as uvicorn picks it; no httpx, no
socket, no load generator. Each app's lifespan runs first (models load and warm as in the
server), every answer is checked to be a 200, and the variants take turns in rounds so
they share the machine's conditions. What it leaves out: the HTTP parsing and socket
writes of the server, and uvicorn's own access log line (the app's log lines are
written, to /dev/null).

`python -m bench.inprocess` (/predict/stock, 2,000 requests per variant) took 18 s on a
shared 2-core machine (30 s while it was busy), 6 s of it importing TensorFlow and
loading the models. All three endpoints:
`python -m bench.inprocess --endpoints /predict/stock,/predict/sine,/classify`.
"""

import argparse
import asyncio
import contextlib
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

from bench.bodies import ENDPOINTS, as_json

ROOT = Path(__file__).resolve().parent.parent
APPS = {"bare": "bench.bare:app", "shipped": "service.main:app", "ceiling": "bench.ceiling:app"}
ENV = {"RELOAD_INTERVAL_S": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}  # as bench/__main__.py's QUIET


def load_app(spec: str):
    """`module:attr`; a module without the attribute but with `create_app()` is built by it."""
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    if hasattr(module, attr):
        return getattr(module, attr)
    return module.create_app()


@contextlib.asynccontextmanager
async def lifespan(app):
    """Run the app's ASGI lifespan around the block; yields its state (uvicorn's app_state)."""
    state: dict = {}
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    reply = asyncio.create_task(outbox.get())
    await asyncio.wait({task, reply}, return_when=asyncio.FIRST_COMPLETED)
    if not reply.done() or reply.result()["type"] != "lifespan.startup.complete":
        reply.cancel()
        failed = reply.result().get("message", "") if reply.done() else task.exception()
        raise RuntimeError(f"lifespan startup failed: {failed}")
    try:
        yield state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


def http_scope(path: str, body: bytes) -> dict:
    """The scope uvicorn builds for `POST path` with a JSON body (HTTP/1.1, loopback)."""
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench.inprocess"),
               (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "scheme": "http",
        "method": "POST", "root_path": "", "path": path, "raw_path": path.encode(),
        "query_string": b"", "headers": headers,
    }  # fmt: skip


async def call(app, scope: dict, state: dict, body: bytes) -> tuple[int, bytes]:
    """One request through the app: (status, body)."""
    scope = {**scope, "state": state.copy()}  # uvicorn copies the lifespan state per request
    done = asyncio.Event()
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks = 0, []

    async def receive() -> dict:
        if pending:
            return pending.pop()
        await done.wait()  # a later receive waits for the disconnect, as on a socket
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def timed(app, state: dict, path: str, body: bytes, n: int) -> list[float]:
    """Microseconds of each of `n` requests; raises on the first answer that is not a 200."""
    scope, times = http_scope(path, body), []
    for _ in range(n):
        start = time.perf_counter_ns()
        status, answer = await call(app, scope, state, body)
        times.append((time.perf_counter_ns() - start) / 1000)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {answer[:500]!r}")
    return times


async def measure(
    apps: dict, paths: list[str], n: int, warmup: int, rounds: int
) -> tuple[dict, float]:
    """{path: {variant: [us per request]}}, the variants taking turns in `rounds` rounds,
    and the seconds it took after the apps had started."""
    results: dict = {path: {name: [] for name in apps} for path in paths}
    async with contextlib.AsyncExitStack() as stack:
        states = {name: await stack.enter_async_context(lifespan(a)) for name, a in apps.items()}
        started = time.perf_counter()
        with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):  # the log lines
            for path in paths:
                body = as_json(ENDPOINTS[path]).encode()
                for name, app in apps.items():
                    await timed(app, states[name], path, body, warmup)
                for k in range(rounds):  # n requests in all, split as evenly as they go
                    size = n // rounds + (k < n % rounds)
                    for name, app in apps.items():
                        batch = await timed(app, states[name], path, body, size)
                        results[path][name].extend(batch)
        measuring_s = time.perf_counter() - started
    return results, measuring_s


def table(results: dict, variants: list[str]) -> str:
    """Markdown: mean and median microseconds per request, and each variant against bare."""
    head = "| endpoint | " + " | ".join(f"{v} us mean / p50" for v in variants)
    ratios = [v for v in variants if v != "bare"] if "bare" in variants else []
    head += "".join(f" | {v} / bare" for v in ratios)
    lines = [head + " |", "|---|" + "---:|" * (len(variants) + len(ratios))]
    for path, by_variant in results.items():
        means = {v: statistics.fmean(by_variant[v]) for v in variants}
        cells = [f"{means[v]:,.0f} / {statistics.median(by_variant[v]):,.0f}" for v in variants]
        cells += [f"{means[v] / means['bare']:.1f}x" for v in ratios]
        lines.append(f"| `{path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def event_loop_factory():
    try:
        import uvloop
    except ImportError:
        return None, "asyncio"
    return uvloop.new_event_loop, "uvloop"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="requests per variant and endpoint")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="turns the variants take")
    parser.add_argument("--variants", default="bare,shipped,ceiling")
    parser.add_argument("--endpoints", default="/predict/stock")
    args = parser.parse_args()
    start = time.perf_counter()
    os.chdir(ROOT)  # the models directory, as `make bench` serves it
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    apps = {}
    for name in args.variants.split(","):
        try:
            apps[name] = load_app(APPS[name])
        except (ImportError, AttributeError) as error:  # the ceiling reaches into the service
            print(f"{name}: skipped, it does not import ({error})", file=sys.stderr)
    paths = args.endpoints.split(",")
    factory, loop_name = event_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        run = measure(apps, paths, args.n, args.warmup, max(args.rounds, 1))
        results, measuring_s = runner.run(run)
    took = time.perf_counter() - start
    print(f"in-process ASGI calls on {loop_name}, {args.n} requests per cell after "
          f"{args.warmup} warm-up, in {args.rounds} rounds; {took:.1f} s in all, "
          f"{measuring_s:.1f} s of it measuring")  # fmt: skip
    print(table(results, list(apps)))


if __name__ == "__main__":
    main()
