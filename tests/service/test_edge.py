"""The HTTP edge of a real `python -m service`, driven as a hostile client would: bodies that
stall, chunk sizes that lie, headers given twice, codings the service does not apply,
compressed bodies (docs/limits.md). Every refusal comes at once and closes the connection."""

import gzip
import json
import time
import zlib

import pytest

from service.examples import SINE_X
from tests.service.fake_models import copy_models
from tests.service.live import closed, connect, read_response, rss_mib, start, stop
from tests.service.test_server_limits import assert_server_error

BODY_TIMEOUT_S = 1.0
MAX_BODY = 65536
BODY = json.dumps({"x": SINE_X}).encode()
HEAD = "POST /predict/sine HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def server(fake_models_dir, tmp_path_factory):
    models = copy_models(fake_models_dir, tmp_path_factory.mktemp("edge"), ["sine"])
    env = {"BODY_TIMEOUT_S": str(BODY_TIMEOUT_S), "MAX_BODY_BYTES": str(MAX_BODY)}
    proc, port = start(models, env)
    yield proc, port
    stop(proc)


@pytest.fixture(scope="module")
def port(server):
    return server[1]


def post(port: int, head: str, body: bytes, wait: float = 5):
    """Sends `head` (its lines, without the blank line) and `body`; the answer and how long
    it took from the last byte sent."""
    with connect(port, timeout=wait) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        sent = time.monotonic()
        response = read_response(sock)
        took = time.monotonic() - sent
        if response.headers.get("connection") == "close":
            assert closed(sock), "the server kept the connection open after Connection: close"
    return response, took


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def assert_refused(response, status: int, *fragments: str) -> None:
    """A refusal: JSON error body, Connection: close, the fragments in its message."""
    assert response.status == status, response
    assert response.headers["connection"] == "close"
    for fragment in fragments:
        assert fragment in response.json()["error"], response


# -- body timeout ------------------------------------------------------------------------


def test_content_length_body_that_stalls_gets_408_after_body_timeout(port):
    head = HEAD + f"Content-Length: {len(BODY)}\r\n"
    response, took = post(port, head, BODY[:10])
    assert_server_error(response, 408, "BODY_TIMEOUT_S")
    assert BODY_TIMEOUT_S <= took < BODY_TIMEOUT_S + 2


def test_chunked_body_that_stalls_after_one_chunk_gets_408(port):
    head = HEAD + "Transfer-Encoding: chunked\r\n"
    response, took = post(port, head, b"a\r\n" + BODY[:10] + b"\r\n")
    assert_server_error(response, 408, "BODY_TIMEOUT_S")
    assert BODY_TIMEOUT_S <= took < BODY_TIMEOUT_S + 2


def test_a_slow_body_that_keeps_coming_is_served(port):
    """The timeout is the wait between two reads, not the whole transfer (nginx's)."""
    with connect(port) as sock:
        sock.sendall(f"{HEAD}Content-Length: {len(BODY)}\r\n\r\n".encode())
        step = len(BODY) // 5 + 1
        for start_at in range(0, len(BODY), step):  # about 2.5 x BODY_TIMEOUT_S in all
            time.sleep(BODY_TIMEOUT_S / 2)
            sock.sendall(BODY[start_at : start_at + step])
        assert read_response(sock).status == 200


# -- refusals decided mid-body, sent at once ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"zz\r\nab", 400, "chunk size"),
        (b"%x\r\nab" % 2**64, 400, "overflow"),
        (b"ffffffffffffffff\r\nab", 413, "MAX_BODY_BYTES"),
        (b"%x\r\n" % (MAX_BODY + 1), 413, "MAX_BODY_BYTES"),
        (b"5\r\n" + BODY[:5] + b"\r\n" + b"%x\r\nab" % (MAX_BODY * 2), 413, "MAX_BODY_BYTES"),
    ],
    ids=["malformed", "2**64", "2**64-1", "limit+1", "second_chunk"],
)
def test_a_bad_chunk_is_refused_at_once_and_the_connection_closes(port, body, status, fragment):
    response, took = post(port, HEAD + "Transfer-Encoding: chunked\r\n", body)
    assert_server_error(response, status, fragment)
    assert took < 1, f"answered after {took:.1f} s"


def test_a_chunk_at_the_limit_is_read(port):
    """Announcing up to the limit is allowed: the body is read (here: not JSON, 422)."""
    response, _ = post(port, HEAD + "Transfer-Encoding: chunked\r\n", chunked(b"x" * MAX_BODY))
    assert response.status == 422, response


def test_a_chunked_body_is_served(port):
    response, _ = post(port, HEAD + "Transfer-Encoding: chunked\r\n", chunked(BODY[:7], BODY[7:]))
    assert response.status == 200, response


# -- one reading of each header ----------------------------------------------------------


def with_body(*lines: str) -> str:
    return "POST /predict/sine HTTP/1.1\r\n" + "".join(f"{line}\r\n" for line in lines)


LENGTH = f"Content-Length: {len(BODY)}"


@pytest.mark.parametrize(
    ("lines", "fragment"),
    [
        (["Host: a", "Content-Type: text/plain", "Content-Type: application/json"], "Content-Type"),
        (["Host: a", "Content-Type: application/json", "Content-Type: text/plain"], "Content-Type"),
        (["Host: a", "Content-Type: application/json", "Authorization: Bearer a",
          "Authorization: Bearer b"], "Authorization"),
        (["Host: a", "Host: b", "Content-Type: application/json"], "Host"),
        (["Host: a", "Host: a", "Content-Type: application/json"], "Host"),
        (["Content-Type: application/json"], "Host"),
        (["Host: a", "Content-Type: application/json", LENGTH], "Content-Length"),
    ],
    ids=["type_json_last", "type_json_first", "authorization", "host_twice", "same_host_twice",
         "no_host", "length_twice"],
)  # fmt: skip
def test_a_header_given_twice_is_400_naming_it(port, lines, fragment):
    response, _ = post(port, with_body(*lines, LENGTH), BODY)
    assert_refused(response, 400, fragment)


def test_the_same_content_type_twice_is_one_value(port):
    type_ = "Content-Type: application/json"
    response, _ = post(port, with_body("Host: a", type_, type_, LENGTH, "Connection: close"), BODY)
    assert response.status == 200, response


def test_an_unknown_transfer_coding_is_501(port):
    for lines in (["Transfer-Encoding: gzip, chunked"],
                  ["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"]):  # fmt: skip
        response, _ = post(port, with_body("Host: a", "Content-Type: application/json", *lines),
                           chunked(BODY))  # fmt: skip
        assert_refused(response, 501, "Transfer-Encoding", "gzip")


def test_an_unknown_content_coding_is_415(port):
    head = HEAD + f"Content-Encoding: br\r\nContent-Length: {len(BODY)}\r\n"
    response, _ = post(port, head, BODY)
    assert_refused(response, 415, "Content-Encoding", "br")
    assert response.headers["accept-encoding"] == "gzip, deflate"


# -- compressed bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress),
     ("deflate", lambda b: zlib.compress(b, wbits=-15))],
    ids=["gzip", "deflate", "raw_deflate"],
)  # fmt: skip
def test_a_compressed_body_answers_as_the_plain_one(port, name, compress):
    plain, _ = post(port, HEAD + f"Content-Length: {len(BODY)}\r\nConnection: close\r\n", BODY)
    packed = compress(BODY)
    head = HEAD + f"Content-Encoding: {name}\r\nContent-Length: {len(packed)}\r\n"
    response, _ = post(port, head + "Connection: close\r\n", packed)
    assert response.status == plain.status == 200, response
    assert response.json()["y"] == plain.json()["y"]


def test_a_body_that_is_not_what_its_coding_says_is_400(port):
    head = HEAD + "Content-Encoding: gzip\r\nContent-Length: 9\r\n"
    response, _ = post(port, head, b"not gzip!")
    assert_refused(response, 400, "gzip")


def test_a_compression_bomb_is_413_and_costs_no_memory(server):
    proc, port = server
    bomb = gzip.compress(b" " * (50 << 20), compresslevel=9)
    assert len(bomb) < MAX_BODY  # 50 MiB of spaces in about 50 KiB: within the body limit
    before = rss_mib(proc.pid)
    head = HEAD + f"Content-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n"
    response, _ = post(port, head, bomb)
    assert_refused(response, 413, str(MAX_BODY))
    grown = rss_mib(proc.pid) - before
    assert grown < 16, f"resident memory grew by {grown:.0f} MiB"


def test_the_log_says_what_was_sent(fake_models_dir, tmp_path):
    models = copy_models(fake_models_dir, tmp_path, ["sine"])
    proc, port = start(models, {"BODY_TIMEOUT_S": str(BODY_TIMEOUT_S)})
    try:
        post(port, HEAD + "Transfer-Encoding: chunked\r\n", b"zz\r\n")
        post(port, HEAD + f"Content-Length: {len(BODY)}\r\n", BODY[:10])
    finally:
        stop(proc)
    log = proc.stdout.read()
    assert "400 to 127.0.0.1:" in log and "Invalid character in chunk size" in log
    assert "408 to 127.0.0.1:" in log and "BODY_TIMEOUT_S" in log


# -- behind a proxy that strips a path prefix --------------------------------------------


def proxied(port: int, method: str, path: str, body: bytes = b"", key: str | None = None):
    """What a proxy serving the service under /lstm forwards: the path without the prefix."""
    assert path.startswith("/lstm/")
    head = f"{method} {path.removeprefix('/lstm')} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return post(port, head + "Connection: close\r\n", body)[0]


def test_behind_a_path_prefix_proxy_hot_routes_answer_and_the_key_holds(fake_models_dir, tmp_path):
    models = copy_models(fake_models_dir, tmp_path, ["sine"])
    proc, port = start(models, {"API_KEY": "k", "ROOT_PATH": "/lstm"})
    try:
        assert proxied(port, "POST", "/lstm/predict/sine", BODY, key="k").status == 200
        assert proxied(port, "POST", "/lstm/predict/sine", BODY).status == 401
        v2 = {"inputs": [{"name": "window", "shape": [1, 20], "datatype": "FP32", "data": SINE_X}]}
        answer = proxied(port, "POST", "/lstm/v2/models/sine/infer", json.dumps(v2).encode(), "k")
        assert answer.status == 200, answer
        assert proxied(port, "GET", "/lstm/health/live").status == 200  # probes: no key
        assert proxied(port, "GET", "/lstm/models", key="k").status == 200
    finally:
        stop(proc)


def test_an_idle_keep_alive_connection_closes_after_timeout_keep_alive(port):
    with connect(port) as sock:
        sock.sendall(f"{HEAD}Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY)
        assert read_response(sock).status == 200
        answered = time.monotonic()
        assert closed(sock)  # EOF, no bytes: uvicorn's own timer
        assert 4.5 <= time.monotonic() - answered < 8  # --timeout-keep-alive: 5 s by default


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_tritonclient_compressed_requests_answer_as_plain_ones(port, algorithm, binary):
    """tritonclient's `request_compression_algorithm`, JSON and binary tensor data."""
    import numpy as np
    import tritonclient.http as triton

    window = np.asarray([SINE_X], dtype=np.float32)  # (1, 20)
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    try:
        answers = []
        for compression in (None, algorithm):
            tensor = triton.InferInput("window", list(window.shape), "FP32")
            tensor.set_data_from_numpy(window, binary_data=binary)
            result = client.infer("sine", [tensor], request_compression_algorithm=compression)
            answers.append(result.as_numpy("y"))
    finally:
        client.close()
    assert answers[0].shape == answers[1].shape == (1, 20, 1)
    np.testing.assert_array_equal(answers[1], answers[0])  # the same model call's bytes
