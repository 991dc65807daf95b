"""A real `python -m service` on a free 127.0.0.1 port, and raw-socket HTTP to talk to it; or
the app behind uvicorn in a thread (`served`), for clients that open their own connections."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from service.main import create_app
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(models_dir: Path, env: dict[str, str] | None = None, *args: str):
    """`python -m service` serving `models_dir`; returns (process, port) once it is ready."""
    port = free_port()
    env = {**os.environ, "MODELS_DIR": str(models_dir), "RELOAD_INTERVAL_S": "0",
           "LOG_FORMAT": "text", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}  # fmt: skip
    command = [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port), *args]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_ready(port, proc)
    except BaseException:
        stop(proc)
        raise
    return proc, port


def wait_ready(port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):  # bounded: at most a minute
        assert proc.poll() is None, proc.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not become ready")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def connect(port: int, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def refused(port: int) -> bool:
    try:
        connect(port, timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def request(method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    """One HTTP/1.1 request as bytes (keep-alive unless `headers` says otherwise)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return f"{head}\r\n".encode() + body


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.headers}, {self.body[:200]!r})"


def read_response(sock: socket.socket, buffer: bytearray | None = None) -> Response:
    """One response (Content-Length framed) from `sock`; `buffer` keeps bytes read past it."""
    data = buffer if buffer is not None else bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {bytes(data)!r}")
        data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    length = int(headers.get("content-length", 0))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a response body")
        rest += chunk
    data[:] = rest[length:]
    return Response(int(status_line.split()[1]), headers, rest[:length])


def closed(sock: socket.socket) -> bool:
    """True once the server has closed the connection (EOF or reset)."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


@contextmanager
def served(settings: Settings, app: FastAPI | None = None) -> Iterator[str]:
    """A real uvicorn server on a free 127.0.0.1 port, in a thread; yields its base URL."""
    # log_config=None: uvicorn's dictConfig would close pytest's capture handlers; the
    # app's lifespan reconfigures uvicorn's loggers in any case
    app = app or create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="info")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(600):
            if server.started or not thread.is_alive():
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
