"""The HTTP server's own limits on a real `python -m service` (service/protocol.py).

Every answer the server gives itself is a JSON error body with `Connection: close`: the
native one, or `{"error"}` alone under TF Serving's /v1 and the Open Inference Protocol's
/v2. Nothing here reaches a model: the requests go to health routes or are refused first.
"""

import socket
import threading
import time

import pytest

from tests.service.fake_models import copy_models
from tests.service.live import closed, connect, read_response, request, rss_mib, start, stop

HEADER_TIMEOUT_S = 1.0
MAX_CONNECTIONS = 8
MAX_URL, MAX_HEADERS = 8192, 16384  # the defaults


@pytest.fixture(scope="module")
def models(fake_models_dir, tmp_path_factory):
    return copy_models(fake_models_dir, tmp_path_factory.mktemp("limits"), ["sine"])


@pytest.fixture(scope="module")
def server(models):
    proc, port = start(models, {"HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S)})
    yield proc, port
    stop(proc)


@pytest.fixture(scope="module")
def port(server):
    return server[1]


def exchange(port: int, data: bytes):
    with connect(port) as sock:
        sock.sendall(data)
        response = read_response(sock)
        assert closed(sock), "the server kept the connection open after its own answer"
    return response


def assert_server_error(response, status: int, *fragments: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    body = response.json()
    assert set(body) == {"error", "detail"} and body["detail"] == []
    for fragment in fragments:
        assert fragment in body["error"]


# -- URL and headers ---------------------------------------------------------------------


def test_100_kb_url_is_414(port):
    response = exchange(port, request("GET", "/health/live?q=" + "a" * 100_000))
    assert_server_error(response, 414, "MAX_URL_BYTES", str(MAX_URL))


def test_url_at_the_limit_is_served(port):
    path = "/health/live?q="
    response = exchange(
        port, request("GET", path + "a" * (MAX_URL - len(path)), headers="Connection: close\r\n")
    )
    assert response.status == 200, response


@pytest.mark.parametrize(
    ("path", "status"),
    [("/v2/models/sine/infer", 431), ("/v1/models/sine:predict", 431), ("/v2", 431),
     ("/v2/health/ready?q=" + "a" * 100_000, 414), ("/v1/models/sine?q=" + "a" * 100_000, 414)],
)  # fmt: skip
def test_the_servers_own_answers_under_v1_and_v2_are_in_their_protocols_body(port, path, status):
    headers = "" if status == 414 else "".join(f"X-H{i}: {'v' * 90}\r\n" for i in range(200))
    response = exchange(port, request("POST", path, headers=headers))
    assert response.status == status, response
    assert response.headers["connection"] == "close"
    body = response.json()
    assert set(body) == {"error"} and ("MAX_HEADER_BYTES" in body["error"] or status == 414)


def test_a_path_that_only_starts_like_v2_gets_the_native_body(port):
    headers = "".join(f"X-H{i}: {'v' * 90}\r\n" for i in range(200))
    assert_server_error(exchange(port, request("GET", "/v2x/health", headers=headers)), 431)


def test_many_small_headers_over_the_limit_are_431(port):
    headers = "".join(f"X-H{i}: {'v' * 90}\r\n" for i in range(200))  # ~20 KB
    assert_server_error(exchange(port, request("GET", "/health/live", headers=headers)), 431)


def test_headers_just_under_the_limit_are_served(port):
    value = "v" * (MAX_HEADERS - 200)  # Host and Connection take the rest
    headers = f"X-Big: {value}\r\nConnection: close\r\n"
    assert exchange(port, request("GET", "/health/live", headers=headers)).status == 200


def test_60_mb_header_is_refused_before_it_ends(port):
    """431 after the first MiB, while the client has not sent the rest: nothing waits for
    the end of the header; the rest is then read and dropped."""
    with connect(port) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (1 << 20))
        response = read_response(sock)
        try:
            for _ in range(59):
                sock.sendall(b"a" * (1 << 20))
        except OSError:  # closed after the linger: the rest is not wanted
            pass
    assert_server_error(response, 431, "MAX_HEADER_BYTES", str(MAX_HEADERS))


def test_60_mb_header_sent_at_once_keeps_memory_bounded(server):
    proc, port = server
    before = rss_mib(proc.pid)
    with connect(port) as sock:
        sending = threading.Thread(target=send_header, args=(sock, 60 << 20))
        sending.start()
        response = read_response(sock)
        sending.join(timeout=30)
    assert_server_error(response, 431)
    grown = rss_mib(proc.pid) - before
    assert grown < 16, f"resident memory grew by {grown:.0f} MiB"  # was +119 MiB buffered


def send_header(sock: socket.socket, size: int) -> None:
    try:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        for _ in range(size >> 20):
            sock.sendall(b"a" * (1 << 20))
        sock.sendall(b"\r\n\r\n")
    except OSError:
        pass


# -- header timeout ----------------------------------------------------------------------


def test_200_sockets_that_never_finish_their_headers_get_408_and_are_closed(port):
    started = time.monotonic()
    socks = [connect(port) for _ in range(200)]
    try:
        for sock in socks:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        for sock in socks:
            response = read_response(sock)
            assert_server_error(response, 408, "HEADER_TIMEOUT_S")
            assert closed(sock)
    finally:
        for sock in socks:
            sock.close()
    assert time.monotonic() - started >= HEADER_TIMEOUT_S  # never before the timeout


def test_connection_that_sends_nothing_is_closed_without_an_answer(port):
    with connect(port) as sock:
        assert sock.recv(65536) == b""  # EOF after HEADER_TIMEOUT_S, no bytes


def test_second_request_on_a_connection_has_its_own_header_timeout(port):
    with connect(port) as sock:
        sock.sendall(request("GET", "/health/live"))
        assert read_response(sock).status == 200
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert_server_error(read_response(sock), 408)


# -- malformed HTTP ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"BREW /health/live HTTP/1.1\r\nHost: x\r\n\r\n", "Invalid method"),
        (b"GET /health/live HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", "header"),
        (b"GET /health/\xff HTTP/1.1\r\nHost: x\r\n\r\n", "url"),
        (b"GET /health/live HTTP/9.9\r\nHost: x\r\n\r\n", "version"),
        (b"POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "length"),
    ],
    ids=["unknown_method", "space_in_header_name", "non_ascii_path", "http_9", "bad_length"],
)
def test_malformed_http_is_json_400(port, data, reason):
    response = exchange(port, data)
    assert_server_error(response, 400, "malformed HTTP request")
    assert reason.lower() in response.json()["error"].lower()


def test_refusal_after_a_pipelined_request_comes_after_its_response(port):
    with connect(port) as sock:
        sock.sendall(request("GET", "/health/live") + request("GET", "/?" + "a" * 20_000))
        buffer = bytearray()
        assert read_response(sock, buffer).status == 200
        assert_server_error(read_response(sock, buffer), 414)


def test_upload_after_the_answer_is_dropped_not_reset(port):
    """A client still sending when the server answers (most send the whole request before
    reading) is not reset for LINGER_S: the server reads and drops the rest, so the
    client's sends succeed and it then reads the answer."""
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADERS * 4))
        for _ in range(5):  # a reset would fail the second send at the latest
            time.sleep(0.1)
            sock.sendall(b"a" * 1000)
        assert_server_error(read_response(sock), 431)


# -- connection limit --------------------------------------------------------------------


@pytest.fixture
def limited(models):
    proc, port = start(models, {"MAX_CONNECTIONS": str(MAX_CONNECTIONS)})
    yield port
    stop(proc)


def test_connections_over_max_connections_get_json_503(limited):
    held = [connect(limited) for _ in range(MAX_CONNECTIONS)]
    try:
        for sock in held:  # up to the limit, every connection is served (and stays open)
            sock.sendall(request("GET", "/health/live"))
            assert read_response(sock).status == 200
        response = exchange(limited, request("GET", "/health/live"))
        assert_server_error(response, 503, "MAX_CONNECTIONS", str(MAX_CONNECTIONS))
        assert response.headers["retry-after"] == "1"
    finally:
        for sock in held:
            sock.close()
