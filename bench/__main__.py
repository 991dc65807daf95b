"""`python -m bench` (`make bench`): the whole benchmark in one go.

Starts bare FastAPI (bench/bare.py), the shipped service, its ceiling (bench/ceiling.py)
and the naive Keras server (bench/naive.py) with uvicorn on free loopback ports, drives
each endpoint at 1, 16 and 64 connections with wrk, every variant back to back for each
endpoint and connection count (so they share the machine's conditions), and the shipped
service's gRPC port (v2 ModelInfer, the same stock window) with h2load at as many calls in
flight, right after the REST row of `/predict/stock` (bench/h2load.py); measures
start-up, memory and the server-side time of a 256-window request, then prints the
commit, the table and the targets and writes bench/results/latest.json,
bench/results/bench.png (and docs/bench.png with --docs).
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from bench import h2load, harness, report
from bench.bodies import ENDPOINTS, NATIVE, as_json

ROOT = Path(__file__).resolve().parent.parent
APPS = {
    "bare": "bench.bare:app",
    "shipped": harness.SERVICE,
    "ceiling": "bench.ceiling:app",
    "naive": "bench.naive:app",
}
ARGS = {"bare": ("--no-access-log", "--log-level", "warning")}  # bare FastAPI logs nothing
QUIET = {"RELOAD_INTERVAL_S": "0"}  # no directory polling while measuring


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return {
        "cpus": os.cpu_count(), "cpu_model": cpu, "platform": platform.platform(),
        "python": platform.python_version(), "tensorflow": tf_version(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": os.getloadavg(),
    }  # fmt: skip


def source() -> dict:
    """The commit measured, and whether the tree had changes on top of it (untracked too)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(done.stderr.strip())
        return done.stdout.strip()

    try:
        commit, changed = git("rev-parse", "HEAD"), git("status", "--porcelain").splitlines()
    except OSError:  # no git, or not a clone
        return {"commit": None, "dirty": None, "changed_files": None}
    return {"commit": commit, "dirty": bool(changed), "changed_files": len(changed)}


def tf_version() -> str:
    """Without importing it here (the bench process stays small and quick)."""
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def start_and_import(rounds: int = 3) -> dict:
    """Median seconds of a fresh `python -c "import tensorflow"` and of the shipped service's
    spawn to /health/ready, alternated so both see the same machine and file cache."""
    imports, starts, rss = [], [], []  # rss: bytes
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import tensorflow"], check=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
        imports.append(time.perf_counter() - start)
        with harness.serving(APPS["shipped"], QUIET) as server:
            starts.append(server.startup_s)
            rss.append(server.rss_bytes)
    return {
        "import_tensorflow_s": statistics.median(imports),
        "startup_s": statistics.median(starts),
        "rss_ready_bytes": max(rss),
    }


def load_runs(wrk: str, servers: dict, conns: list[int], seconds: float, paths: list[str],
              grpc: dict | None = None) -> dict:  # fmt: skip
    """Every endpoint x connection count, the variants back to back so they share conditions;
    into `grpc` (when given) the shipped service's gRPC runs, beside REST's stock rows."""
    runs = {name: {} for name in servers}
    for path in paths:
        body = ENDPOINTS[path]
        payload = as_json(body)
        serving = speakers(servers, path)
        for server in serving.values():  # warm-up: first requests, lazy threads
            harness.wrk(wrk, server.url + path, payload, 16, 1)
            harness.settle(server.process.pid)
        for c in conns:
            for name, server in serving.items():
                r = harness.wrk(wrk, server.url + path, payload, c, seconds)
                # its backlog is worked off before the next variant runs
                r["settle_s"] = round(harness.settle(server.process.pid), 2)
                runs[name].setdefault(path, {})[str(c)] = r
                print(f"  {name:8s} {path:15s} {c:3d} conns: {r['rps']:8,.0f} req/s  "
                      f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                      f"errors {r['errors']}  then idle after {r['settle_s']:.1f} s",
                      flush=True)  # fmt: skip
            if grpc is not None and path == "/predict/stock" and "shipped" in servers:
                r = grpc_run(servers["shipped"], c, seconds)
                grpc.setdefault(h2load.NAME, {})[str(c)] = r
    return runs


def grpc_run(server, streams: int, seconds: float) -> dict:
    """h2load on the shipped server's gRPC port, checked against its status counts."""
    port = int(server.env["GRPC_PORT"])
    r = h2load.run(h2load.ensure_h2load(), port, server.url, streams, seconds)
    r["settle_s"] = round(harness.settle(server.process.pid), 2)
    print(f"  {'gRPC':8s} {h2load.NAME:15s} {streams:3d} calls: {r['rps']:8,.0f} req/s  "
          f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  "
          f"statuses {r['grpc_status']}", flush=True)  # fmt: skip
    return r


def speakers(servers: dict, path: str) -> dict:
    """The servers that have `path`: the naive one speaks only the native routes."""
    return {name: s for name, s in servers.items() if name != "naive" or path in NATIVE}


def server_time() -> dict:
    env = {**os.environ, **QUIET, "TF_CPP_MIN_LOG_LEVEL": "2", "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "bench.server_time"], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="length of each wrk run")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--variants", default=",".join(APPS))
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--no-extras", action="store_true", help="only the load runs")
    parser.add_argument("--docs", action="store_true", help="also copy the chart to docs/")
    parser.add_argument("--no-grpc", action="store_true",
                        help="skip the shipped service's gRPC runs (h2load)")  # fmt: skip
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a shipped-server setting, e.g. BATCH_MAX_WAIT_MS=2")  # fmt: skip
    args = parser.parse_args()
    os.chdir(ROOT)
    wrk = harness.ensure_wrk()
    conns = [int(c) for c in args.connections.split(",")]
    variants, paths = args.variants.split(","), args.endpoints.split(",")
    unknown = [v for v in variants if v not in APPS] + [p for p in paths if p not in ENDPOINTS]
    if unknown:
        parser.error(f"unknown variant or endpoint: {', '.join(unknown)}")

    settings = {"seconds": args.seconds, "shipped_env": args.env, "variants": variants}
    results = {"source": source(), "machine": machine(), "settings": settings, "extra": {}}
    extra = results["extra"]
    print(report.source_line(results["source"]), flush=True)
    print(f"machine: {results['machine']}", flush=True)
    if not args.no_extras:
        extra.update(start_and_import())
    servers = {}
    try:
        for name in variants:  # all at once: each row runs them back to back
            env = {**QUIET, **dict(e.split("=", 1) for e in args.env)}
            env = env if name == "shipped" else QUIET
            if name == "shipped" and not args.no_grpc:
                env = {**env, "GRPC_PORT": str(harness.free_port())}
            servers[name] = harness.Server(APPS[name], env, ARGS.get(name, ()))
            servers[name].start()
        grpc = None if args.no_grpc or "/predict/stock" not in paths else {}
        results["runs"] = load_runs(wrk, servers, conns, args.seconds, paths, grpc)
        if grpc:
            results["grpc"] = grpc
        if "shipped" in servers:
            extra["rss_after_load_bytes"] = servers["shipped"].rss_bytes
    finally:
        for server in servers.values():
            server.stop()
    if not args.no_extras:
        extra["server_time"] = server_time()

    checks = report.targets(results)
    results["targets"] = checks
    out = ROOT / "bench" / "results"
    report.write(results, out)
    if args.docs:
        shutil.copy(out / "bench.png", ROOT / "docs" / "bench.png")
    print()
    print(report.source_line(results["source"]))
    print(report.table(results))
    if extra:
        print()
        print(report.extras(extra))
    print()
    if results.get("grpc"):
        print(report.grpc_table(results))
        print()
    print(report.targets_table(checks))
    print(f"\nwrote {out / 'latest.json'} and {out / 'bench.png'}")


if __name__ == "__main__":
    main()
