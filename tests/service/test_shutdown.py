"""SIGTERM on a real server: the request in flight completes, new connections are refused,
the process exits 0 (`python -m service`, uvicorn on 127.0.0.1)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service.examples import SINE_X
from tests.service.fake_models import copy_models

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, server: subprocess.Popen) -> None:
    for _ in range(600):  # bounded: at most a minute
        assert server.poll() is None, server.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not become ready")


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def read_response(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.fixture
def server(fake_models_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "MODELS_DIR": str(copy_models(fake_models_dir, tmp_path, ["sine"])),
           "RELOAD_INTERVAL_S": "0", "LOG_FORMAT": "text"}  # fmt: skip
    command = [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port),
               "--timeout-graceful-shutdown", "15"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_ready(port, proc)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_sigterm_drains_in_flight_request_refuses_new_and_exits_0(server):
    proc, port = server
    body = json.dumps({"x": SINE_X}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST /predict/sine HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n")  # fmt: skip
    sock.sendall(head.encode())
    # "100 Continue" comes once the app asks for the body: the request is in flight
    assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")

    proc.send_signal(signal.SIGTERM)
    for _ in range(100):  # bounded: until the listening socket is closed
        if refused(port):
            break
        time.sleep(0.1)
    assert refused(port), "new connections are still accepted after SIGTERM"

    sock.sendall(body)
    response = read_response(sock)
    sock.close()
    status, _, rest = response.partition(b"\r\n")
    assert status == b"HTTP/1.1 200 OK", response
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["model"] == "sine"

    assert proc.wait(timeout=30) == 0
    log = proc.stdout.read()
    assert "Shutting down" in log and "Finished server process" in log
