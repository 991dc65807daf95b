"""gRPC load with h2load (Debian's nghttp2-client), a native HTTP/2 load generator: the
Open Inference Protocol's ModelInfer for the REST bodies' stock window, `streams` calls in
flight on one HTTP/2 connection (as one gRPC channel carries them).

gRPC over HTTP/2 is a POST of a length-prefixed message (1 byte: not compressed, 4 bytes
big-endian: its length, then the serialized ModelInferRequest) with `content-type:
application/grpc` and `te: trailers`. h2load counts every HTTP 200 as a success, but gRPC
puts its status in the trailers, so each run is checked against the server's own count of
statuses (`lstm_grpc_requests_total` on /metrics): every reply h2load saw must be an OK
one, and one call through grpcio must decode to the window's prediction.
"""

import re
import statistics
import struct
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from bench.bodies import ENDPOINTS, FEATURES
from bench.harness import ensure
from service.grpc.protos import inference_pb2

METHOD = "inference.GRPCInferenceService/ModelInfer"
NAME = "v2 ModelInfer stock"  # the row of results["grpc"]; bench/report.py maps it to REST
STATUS = re.compile(r"^lstm_grpc_requests_total\{(?P<labels>[^}]*)\} (?P<n>[0-9.e+]+)$", re.M)


def ensure_h2load() -> str:
    """The h2load binary (Debian's nghttp2-client, installed when missing)."""
    return ensure("h2load", "nghttp2-client")


def request() -> inference_pb2.ModelInferRequest:
    """The stock window of the REST body (bench/bodies.py), raw FP32 as tritonclient sends."""
    window = np.array(
        [[[row[f] for f in FEATURES] for row in ENDPOINTS["/predict/stock"]["rows"]]], dtype="<f4"
    )
    message = inference_pb2.ModelInferRequest(model_name="stock")
    message.inputs.add(name="window", datatype="FP32", shape=list(window.shape))
    message.raw_input_contents.append(window.tobytes())
    return message


def framed(message) -> bytes:
    """One gRPC message on the wire: uncompressed flag, big-endian length, the bytes."""
    data = message.SerializeToString()
    return struct.pack(">BI", 0, len(data)) + data


def statuses(http_url: str) -> dict[str, float]:
    """{grpc status code: calls so far} of ModelInfer, from the server's /metrics."""
    with urllib.request.urlopen(f"{http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for match in STATUS.finditer(text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if labels.get("method") == METHOD:
            found[labels["code"]] = found.get(labels["code"], 0) + float(match["n"])
    return found


def one_call(port: int) -> list[float]:
    """One real call through grpcio: must be OK and hold a finite prediction."""
    import grpc

    from service.grpc.protos import inference_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = inference_pb2_grpc.GRPCInferenceServiceStub(channel)
        reply = stub.ModelInfer(request(), timeout=10)
    index = [o.name for o in reply.outputs].index("next_close")
    values = np.frombuffer(reply.raw_output_contents[index], dtype="<f4")
    if not np.isfinite(values).all():
        raise RuntimeError(f"ModelInfer answered non-finite values: {values}")
    return values.tolist()


def run(binary: str, port: int, http_url: str, streams: int, seconds: float) -> dict:
    """One h2load run; requests/s and latencies, as bench.harness.wrk, checked by status."""
    one_call(port)
    before = statuses(http_url)
    with tempfile.TemporaryDirectory() as tmp:
        body, log = Path(tmp) / "body", Path(tmp) / "requests.log"
        body.write_bytes(framed(request()))
        command = [binary, "-t1", "-c1", f"-m{streams}", f"-D{seconds:g}", "-d", str(body),
                   "-H", "content-type: application/grpc", "-H", "te: trailers",
                   "--log-file", str(log), f"http://127.0.0.1:{port}/{METHOD}"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"h2load failed: {done.stderr or done.stdout}")
        latencies_us = [int(line.split("\t")[2]) for line in log.read_text().splitlines()]
    after = statuses(http_url)
    return summary(done.stdout, latencies_us, streams, before, after)


def summary(out: str, latencies_us: list[int], streams: int, before: dict, after: dict) -> dict:
    """h2load's counts and rate, the latencies from its per-request log, the server's statuses."""
    counts = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                       r"(\d+) failed, (\d+) errored", out)  # fmt: skip
    rate = re.search(r"finished in [0-9.]+m?s, ([0-9.]+) req/s", out)
    if not counts or not rate:
        raise RuntimeError(f"cannot read h2load's output:\n{out}")
    done, succeeded = int(counts[2]), int(counts[3])
    grown = {code: after.get(code, 0) - before.get(code, 0) for code in after}
    ms = np.array(latencies_us or [float("nan")]) / 1000
    return {
        "connections": streams,
        "requests": done,
        "rps": float(rate[1]),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "mean_ms": float(statistics.fmean(ms)) if latencies_us else float("nan"),
        # not an HTTP 200 by h2load's count, or a 200 whose grpc-status was not OK by the
        # server's (each call counted once)
        "errors": (done - succeeded) + max(0, succeeded - int(grown.get("OK", 0))),
        "grpc_status": {code: int(n) for code, n in grown.items() if n},
    }
