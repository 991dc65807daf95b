"""Start uvicorn servers on loopback ports, drive them with wrk, and read their memory."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"  # load tests only ever target loopback

# wrk's Lua hooks: POST the body file's JSON; at the end print one JSON line of results
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
wrk.body = f:read("*a")
f:close()
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def ensure(binary: str, package: str) -> str:
    """The path of `binary`; installed from Debian's `package` when missing (root or sudo)."""
    found = shutil.which(binary)
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print(f"installing {binary} (apt-get install {package}) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", package], check=True, env=env)
    return shutil.which(binary) or sys.exit(f"{binary} is still not on PATH after installing it")


def ensure_wrk() -> str:
    return ensure("wrk", "wrk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except OSError:
        return 0


def rss_bytes(pid: int) -> int:
    """Resident memory of a process in bytes, from /proc (VmRSS, which the kernel gives in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            assert unit == "kB", line  # the kernel's "kB" is 1024 bytes
            return int(value) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time a process (all its threads) has used so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def settle(pid: int, window_s: float = 0.3, idle_share: float = 0.05, limit_s: float = 60) -> float:
    """Wait until the process uses under `idle_share` of a core over `window_s`; seconds waited.

    After wrk stops, a server may still work through requests it had queued (the naive
    server for seconds); the next variant's run must not share the machine with that.
    """
    start = time.perf_counter()
    used = cpu_seconds(pid)
    while time.perf_counter() - start < limit_s:
        time.sleep(window_s)
        now = cpu_seconds(pid)
        if now - used <= idle_share * window_s:
            break
        used = now
    return time.perf_counter() - start


SERVICE = "python -m service"  # as an `app`: the shipped service, started as its image starts it


class Server:
    """One uvicorn process serving `app` (an import path) on a free loopback port.

    `args` are more uvicorn options, e.g. `--no-access-log`.
    """

    def __init__(
        self, app: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.app, self.args, self.port = app, tuple(args), free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
        # the server's log, as long as the server runs (its tail is shown if it fails)
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-", suffix=".log")  # noqa: SIM115
        self.process: subprocess.Popen | None = None  # until start()

    def start(self, timeout_s: float = 120) -> float:
        """Start the process; returns the seconds from spawning it to /health/ready = 200."""
        if self.app == SERVICE:  # the product: its own server (bounded HTTP, drain on SIGTERM)
            command = [sys.executable, "-m", "service", "--host", HOST, "--port", str(self.port),
                       *self.args]  # fmt: skip
        else:
            command = [sys.executable, "-m", "uvicorn", self.app, "--host", HOST,
                       "--port", str(self.port), "--workers", "1", *self.args]  # fmt: skip
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        while time.perf_counter() - started < timeout_s:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.app} exited while starting:\n{self.log.read()[-3000:]}")
            if get(f"{self.url}/health/ready", timeout=1) == 200:
                return time.perf_counter() - started
            time.sleep(0.02)
        raise TimeoutError(f"{self.app} not ready after {timeout_s} s")

    def stop(self) -> None:
        """End the process if it was started (a run that failed before starting it stops
        every server it made, so the first error is the one shown)."""
        if self.process is None:
            self.log.close()
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    @property
    def rss_bytes(self) -> int:
        return rss_bytes(self.process.pid)


@contextmanager
def serving(app: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
    server = Server(app, env, args)
    server.startup_s = server.start()
    try:
        yield server
    finally:
        server.stop()


def wrk(binary: str, url: str, body: str, connections: int, seconds: float) -> dict:
    """One wrk run (one thread: the server gets the other core); requests/s and latencies."""
    with tempfile.TemporaryDirectory() as tmp:
        script, body_file = Path(tmp) / "post.lua", Path(tmp) / "body.json"
        script.write_text(WRK_SCRIPT)
        body_file.write_text(body)
        command = [binary, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
                   "-s", str(script), url]  # fmt: skip
        env = {**os.environ, "BENCH_BODY": str(body_file)}
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed on {url}: {done.stderr or done.stdout}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seconds_run = result["duration_us"] / 1e6
    return {
        "connections": connections,
        "requests": result["requests"],
        "rps": result["requests"] / seconds_run,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "max_ms": result["max_us"] / 1000,
        "errors": result["non_2xx"] + result["socket_errors"],
    }
