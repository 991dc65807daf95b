"""bench/h2load.py: the gRPC frame h2load sends, and how a run is read and checked against
the server's own status counts (h2load counts any HTTP 200 as a success)."""

import struct

import numpy as np
import pytest

from bench import h2load
from service.grpc.protos import inference_pb2

OUTPUT = """finished in 5.00s, {rate} req/s, 1.2MB/s
requests: {total} total, {total} started, {done} done, {ok} succeeded, {failed} failed, 0 errored, 0 timeout
status codes: {ok} 2xx, 0 3xx, 0 4xx, 0 5xx
"""  # noqa: E501  (h2load's own line)


def output(done: int, ok: int) -> str:
    return OUTPUT.format(rate=done / 5, total=done, done=done, ok=ok, failed=done - ok)


def test_frame_is_flag_length_and_the_message():
    message = h2load.request()
    frame = h2load.framed(message)
    flag, length = struct.unpack(">BI", frame[:5])
    assert flag == 0 and length == len(frame) - 5
    parsed = inference_pb2.ModelInferRequest.FromString(frame[5:])
    window = np.frombuffer(parsed.raw_input_contents[0], dtype="<f4")
    assert parsed.model_name == "stock" and list(parsed.inputs[0].shape) == [1, 20, 5]
    assert window.size == 100 and np.isfinite(window).all()


def test_a_run_with_every_status_ok_has_no_errors():
    r = h2load.summary(output(500, 500), [1000] * 500, 64, {"OK": 10}, {"OK": 510})
    assert r["errors"] == 0 and r["requests"] == 500
    assert r["rps"] == pytest.approx(100)
    assert r["p50_ms"] == pytest.approx(1.0) and r["grpc_status"] == {"OK": 500}


def test_grpc_errors_inside_http_200_count_as_errors():
    # h2load saw 500 successes; the server answered 20 of them INVALID_ARGUMENT
    r = h2load.summary(output(500, 500), [1000] * 500, 64, {}, {"OK": 480, "INVALID_ARGUMENT": 20})
    assert r["errors"] == 20
    assert r["grpc_status"] == {"OK": 480, "INVALID_ARGUMENT": 20}


def test_http_failures_count_as_errors():
    r = h2load.summary(output(500, 490), [1000] * 500, 64, {}, {"OK": 490})
    assert r["errors"] == 10  # failed by h2load; the 490 others were OK


def test_unreadable_output_is_an_error():
    with pytest.raises(RuntimeError, match="cannot read"):
        h2load.summary("nothing", [], 1, {}, {})
