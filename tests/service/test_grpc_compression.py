"""gRPC request compression (gzip, deflate), as tritonclient's `compression_algorithm` sends
it: answered as the uncompressed call is, and held to MAX_BODY_BYTES after decompression, so
a small compressed message that inflates past the limit is refused (RESOURCE_EXHAUSTED)."""

import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from fastapi.testclient import TestClient
from tritonclient.grpc import service_pb2

from service.main import create_app
from service.settings import Settings

LIMIT = 64 * 1024  # MAX_BODY_BYTES here: a bomb of a few MiB costs the test nothing
INFER = "/inference.GRPCInferenceService/ModelInfer"


@pytest.fixture(scope="module")
def channel(models_dir: Path) -> Iterator[grpc.Channel]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(models_dir=models_dir, grpc_port=port, reload_interval_s=0,
                        max_body_bytes=LIMIT)  # fmt: skip
    with TestClient(create_app(settings)), grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield ch


def infer(channel: grpc.Channel, request, compression=None):
    answer = service_pb2.ModelInferResponse.FromString
    call = channel.unary_unary(INFER, lambda m: m.SerializeToString(), answer)
    return call(request, compression=compression, timeout=30)


def sine_request(n_windows: int = 1) -> service_pb2.ModelInferRequest:
    x = np.linspace(0.0, 1.9, 20 * n_windows, dtype=np.float32).reshape(n_windows, 20, 1)
    request = service_pb2.ModelInferRequest(model_name="sine")
    tensor = request.inputs.add(name="window", datatype="FP32", shape=list(x.shape))
    tensor.contents.fp32_contents.extend(x.ravel().tolist())
    return request


@pytest.mark.parametrize("compression", [grpc.Compression.Gzip, grpc.Compression.Deflate])
def test_a_compressed_request_answers_as_the_plain_one(channel, compression):
    plain = infer(channel, sine_request())
    packed = infer(channel, sine_request(), compression)
    assert packed.outputs == plain.outputs
    assert packed.raw_output_contents == plain.raw_output_contents


def test_a_compression_bomb_is_refused_after_decompression(channel):
    request = sine_request()
    request.id = "0" * (LIMIT * 64)  # 4 MiB of one byte: a few KiB once gzipped
    with pytest.raises(grpc.RpcError) as caught:
        infer(channel, request, grpc.Compression.Gzip)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert infer(channel, sine_request()).outputs  # and the server still answers
