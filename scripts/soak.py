"""`make soak`: 60 s at 256 connections on POST /predict/stock against a real local server.

Starts `python -m service` on 127.0.0.1 with the committed models, warms it up, runs wrk
(installed with apt-get if missing and possible) with scripts/soak.lua, samples the
server's resident memory from /proc every second, then stops it with SIGTERM. Passes when
there are no socket errors, no non-2xx answers, no dropped requests (every request wrk
completed got an answer and the server drained and exited 0) and RSS grew < 10% from the
first to the last ten seconds. Prints the result and writes it as JSON to
bench/results/soak.json (or --out); only --docs also updates the tracked docs/soak.json.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.examples import STOCK_ROWS  # noqa: E402  (the repo root is not installed here)


def ensure_wrk() -> str:
    if not shutil.which("wrk") and shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk not found: installing it with apt-get", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk is required: apt-get install wrk (Debian/Ubuntu) or brew install wrk")
    return wrk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def wait_ready(url: str, server: subprocess.Popen) -> None:
    for _ in range(1200):  # at most two minutes
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("the server did not become ready in two minutes")


def run_wrk(wrk: str, url: str, seconds: int, connections: int, env: dict) -> dict:
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
               "-s", str(ROOT / "scripts" / "soak.lua"), url]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("SOAK_JSON ")), None)
    if done.returncode != 0 or line is None:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return {**json.loads(line.removeprefix("SOAK_JSON ")), "command": " ".join(command)}


def machine() -> dict:
    cpu = next(
        (x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
         if x.startswith("model name")), "unknown")  # fmt: skip
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of load before measuring")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    parser.add_argument(
        "--docs", action="store_true", help="also copy the result to docs/soak.json (tracked)"
    )
    args = parser.parse_args()
    wrk, port = ensure_wrk(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MODELS_DIR": str(ROOT / "models"),
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_ready(f"{base}/health/ready", server)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as body:
            json.dump({"rows": STOCK_ROWS}, body)
            body.flush()
            wrk_env = {**os.environ, "SOAK_BODY": body.name}
            url = f"{base}/predict/stock"
            if args.warmup:
                run_wrk(wrk, url, args.warmup, args.connections, wrk_env)
            samples: list[tuple[float, float]] = []
            stop = threading.Event()

            def sample() -> None:
                start = time.monotonic()
                while not stop.wait(1.0):
                    samples.append((time.monotonic() - start, rss_mib(server.pid)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            load = run_wrk(wrk, url, args.seconds, args.connections, wrk_env)
            stop.set()
            sampler.join()
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    first = [m for t, m in samples if t <= 10]
    last = [m for t, m in samples if t > samples[-1][0] - 10]
    rss_first, rss_last = sum(first) / len(first), sum(last) / len(last)
    errors = sum(load[k] for k in ("connect", "read", "write", "timeout"))
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "route": "POST /predict/stock (one 20-row window)",
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "connections": args.connections,
        "requests": load["requests"],
        "requests_per_s": round(load["requests"] / (load["duration_us"] / 1e6), 1),
        "latency_ms": load["latency_ms"],
        "socket_errors": errors,
        "non_2xx": load["non_2xx_3xx"],
        "server_exit_code": exit_code,
        "rss_mib": {
            "first_10s": round(rss_first, 1),
            "last_10s": round(rss_last, 1),
            "max": round(max(m for _, m in samples), 1),
        },
        "rss_growth_pct": round(100 * (rss_last - rss_first) / rss_first, 2),
        "wrk": load["command"].replace(str(ROOT) + "/", ""),
    }
    result["passed"] = (errors == 0 and result["non_2xx"] == 0 and exit_code == 0
                        and result["rss_growth_pct"] < 10)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    written = [args.out]
    if args.docs:
        written.append(ROOT / "docs" / "soak.json")
        written[-1].write_text(args.out.read_text())
    shown = " and ".join(str(p) for p in written)
    print(f"soak {'PASSED' if result['passed'] else 'FAILED'}; written to {shown}")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
