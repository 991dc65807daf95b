"""gRPC with the clients people use: tritonclient (Open Inference Protocol), the
tensorflow-serving-api stubs and grpc health, against a real server on 127.0.0.1.

Each answer must equal the native REST route's for the same windows, and each bad input
must get the protocol's own status code (never INTERNAL, never UNKNOWN).
"""

import asyncio
import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import grpc
import numpy as np
import pytest
import tensorflow as tf
import tritonclient.grpc as triton
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

from service import examples
from service.core.errors import (
    InputError,
    ModelNotFound,
    ModelUnavailable,
    NotReady,
    Overloaded,
    Unauthenticated,
    VersionNotFound,
)
from service.core.lifecycle import Lifecycle
from service.core.metrics import REGISTRY
from service.grpc import health as grpc_health
from service.grpc.errors import status_of
from service.grpc.server import running, serve
from service.main import create_app
from service.settings import Settings
from tests.service import live
from tests.service.fake_models import copy_models

MODELS = ("stock", "sine", "classify")
PREDICTION = {"stock": "next_close", "sine": "y", "classify": "probabilities"}
KEY = "grpc-test-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def served(models_dir: Path) -> Iterator[SimpleNamespace]:
    """The app with gRPC on a free loopback port; `rest` is its TestClient."""
    port = free_port()
    settings = Settings(models_dir=models_dir, grpc_port=port, reload_interval_s=0)
    with TestClient(create_app(settings)) as rest, grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield SimpleNamespace(rest=rest, port=port, channel=ch, address=f"127.0.0.1:{port}")


@pytest.fixture(scope="session")
def v2(served) -> Iterator[triton.InferenceServerClient]:
    client = triton.InferenceServerClient(served.address)
    yield client
    client.close()


@pytest.fixture(scope="session")
def tfs(served) -> prediction_service_pb2_grpc.PredictionServiceStub:
    return prediction_service_pb2_grpc.PredictionServiceStub(served.channel)


# ---------------------------------------------------------------- the same windows, two ways


def native(rest: TestClient, model: str) -> tuple[np.ndarray, np.ndarray]:
    """(windows (n, window, features), the native route's prediction for them)."""
    if model == "stock":
        rows = examples.STOCK_ROWS
        table = np.array([[r[f] for f in ("open", "high", "low", "close", "volume")] for r in rows])
        windows = table[np.newaxis].astype(np.float32)  # 20 rows: one window
        answer = rest.post("/predict/stock", json={"rows": rows})
        assert answer.status_code == 200, answer.text
        return windows, np.array(answer.json()["predictions"]).reshape(-1, 1)
    x = examples.SINE_X if model == "sine" else examples.CLASSIFY_X
    windows = np.array(x, dtype=np.float32).reshape(1, -1, 1)
    path = "/predict/sine" if model == "sine" else "/classify"
    answer = rest.post(path, json={"x": x})
    assert answer.status_code == 200, answer.text
    key = "y" if model == "sine" else "probabilities"
    values = np.array(answer.json()[key])
    return windows, values.reshape(1, 20, -1)


def v2_input(values: np.ndarray, name: str = "window", datatype: str = "FP32") -> triton.InferInput:
    tensor = triton.InferInput(name, list(values.shape), datatype)
    tensor.set_data_from_numpy(values)
    return tensor


def tf_request(
    model: str, values, version: int | None = None, **spec
) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    for key, value in spec.items():
        setattr(request.model_spec, key, value)
    if version is not None:
        request.model_spec.version.value = version
    request.inputs["window"].CopyFrom(tf.make_tensor_proto(values))
    return request


# ---------------------------------------------------------------- Open Inference Protocol


def test_v2_server_is_live_ready_and_names_itself(v2):
    assert v2.is_server_live() and v2.is_server_ready()
    assert v2.get_server_metadata().name == "lstm-service"
    assert all(v2.is_model_ready(m) for m in MODELS)


@pytest.mark.parametrize("model", MODELS)
def test_v2_model_metadata_is_the_signature(v2, served, model):
    meta = v2.get_model_metadata(model)
    spec = served.rest.get(f"/models/{model}").json()
    window, n_features = spec["input"]["window"], len(spec["input"]["features"])
    assert [(t.name, t.datatype, list(t.shape)) for t in meta.inputs] == [
        ("window", "FP32", [-1, window, n_features])
    ]
    names = [t.name for t in meta.outputs]
    assert PREDICTION[model] in names and names[-1] == "warnings"
    assert meta.versions == [str(spec["version"])]


@pytest.mark.parametrize("model", MODELS)
def test_v2_infer_equals_the_native_route(v2, served, model):
    windows, expected = native(served.rest, model)
    result = v2.infer(model, [v2_input(windows)])
    np.testing.assert_allclose(result.as_numpy(PREDICTION[model]), expected, rtol=1e-5, atol=1e-5)
    response = result.get_response()
    assert response.model_name == model and response.model_version.isdigit()


def test_v2_fp32_contents_answer_as_raw_does(v2, served):
    windows, _ = native(served.rest, "sine")
    request = service_pb2.ModelInferRequest(model_name="sine", id="call-1")
    tensor = request.inputs.add(name="window", datatype="FP32", shape=list(windows.shape))
    tensor.contents.fp32_contents.extend(windows.ravel().tolist())
    request.outputs.add(name="y")
    stub = service_pb2_grpc.GRPCInferenceServiceStub(served.channel)
    response = stub.ModelInfer(request)
    assert response.id == "call-1" and not response.raw_output_contents
    [y] = response.outputs
    assert (y.name, list(y.shape)) == ("y", [1, 20, 1])
    raw = v2.infer("sine", [v2_input(windows)]).as_numpy("y")
    np.testing.assert_allclose(np.array(y.contents.fp32_contents).reshape(1, 20, 1), raw)


def test_v2_outputs_picks_outputs(v2, served):
    windows, _ = native(served.rest, "sine")
    result = v2.infer(
        "sine", [v2_input(windows)], outputs=[triton.InferRequestedOutput("warnings")]
    )
    assert [o.name for o in result.get_response().outputs] == ["warnings"]
    assert result.as_numpy("warnings").shape == (0,)  # in range: no warnings


def test_v2_warnings_are_the_native_routes(v2, served):
    x = [v * 40 for v in examples.SINE_X]  # far outside the training range
    answer = served.rest.post("/predict/sine", json={"x": x}).json()
    assert answer["warnings"]
    result = v2.infer("sine", [v2_input(np.array(x, dtype=np.float32).reshape(1, 20, 1))])
    warnings = [json.loads(w) for w in result.as_numpy("warnings")]
    assert [w["message"] for w in warnings] == [w["message"] for w in answer["warnings"]]


def window_of(model: str, n: int = 1) -> np.ndarray:
    features = 5 if model == "stock" else 1
    base = (
        np.array(
            [[r["open"], r["high"], r["low"], r["close"], r["volume"]] for r in examples.STOCK_ROWS]
        )
        if features == 5
        else np.array(examples.SINE_X)
    )
    return np.repeat(base.reshape(1, 20, features), n, axis=0).astype(np.float32)  # fmt: skip


def nan_window() -> np.ndarray:
    values = window_of("sine")
    values[0, 3, 0] = np.nan
    return values


INVALID, NOT_FOUND = "INVALID_ARGUMENT", "NOT_FOUND"
V2_BAD = {  # case: (model, inputs, model_version, status code)
    "wrong shape": ("sine", lambda: [v2_input(np.zeros((1, 19, 1), np.float32))], "", INVALID),
    "NaN": ("sine", lambda: [v2_input(nan_window())], "", INVALID),
    "unknown model": ("nope", lambda: [v2_input(window_of("sine"))], "", NOT_FOUND),
    "version not served": ("sine", lambda: [v2_input(window_of("sine"))], "7", NOT_FOUND),
    "version not a number": ("sine", lambda: [v2_input(window_of("sine"))], "v1", INVALID),
    "BYTES": ("sine", lambda: [v2_input(window_of("sine").astype(np.object_), datatype="BYTES")],
              "", INVALID),
    "other input name": ("sine", lambda: [v2_input(window_of("sine"), name="x")], "", INVALID),
    "stock window of 1 feature": ("stock", lambda: [v2_input(window_of("sine"))], "", INVALID),
}  # fmt: skip


@pytest.mark.parametrize("case", V2_BAD)
def test_v2_bad_input_gets_its_status_code(v2, case):
    model, inputs, version, code = V2_BAD[case]
    with pytest.raises(InferenceServerException) as caught:
        v2.infer(model, inputs(), model_version=version)
    assert caught.value.status() == f"StatusCode.{code}", caught.value.message()


def test_v2_nan_error_names_the_value(v2):
    with pytest.raises(InferenceServerException) as caught:
        v2.infer("sine", [v2_input(nan_window())])
    assert caught.value.message().startswith("window[0][3].x:")


def test_v2_raw_bytes_must_match_the_shape(served):
    stub = service_pb2_grpc.GRPCInferenceServiceStub(served.channel)
    request = service_pb2.ModelInferRequest(model_name="sine", raw_input_contents=[b"\0" * 76])
    request.inputs.add(name="window", datatype="FP32", shape=[1, 20, 1])
    with pytest.raises(grpc.RpcError) as caught:
        stub.ModelInfer(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "76 raw bytes" in caught.value.details()


def test_v2_huge_declared_shape_is_refused_before_reading(served):
    stub = service_pb2_grpc.GRPCInferenceServiceStub(served.channel)
    request = service_pb2.ModelInferRequest(model_name="sine")
    request.inputs.add(name="window", datatype="FP32", shape=[1 << 40, 20, 1])
    with pytest.raises(grpc.RpcError) as caught:
        stub.ModelInfer(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_v2_rpcs_not_offered_are_unimplemented(v2):
    with pytest.raises(InferenceServerException) as caught:
        v2.get_inference_statistics("sine")
    assert caught.value.status() == "StatusCode.UNIMPLEMENTED"


def test_message_over_max_body_bytes_is_resource_exhausted(served):
    stub = service_pb2_grpc.GRPCInferenceServiceStub(served.channel)
    request = service_pb2.ModelInferRequest(
        model_name="sine", raw_input_contents=[b"\0" * (2 << 20)]
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.ModelInfer(request)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


# ---------------------------------------------------------------- TF Serving


@pytest.mark.parametrize("model", MODELS)
def test_tf_predict_equals_the_native_route(tfs, served, model):
    windows, expected = native(served.rest, model)
    response = tfs.Predict(tf_request(model, windows))
    assert response.model_spec.name == model and response.model_spec.version.value > 0
    np.testing.assert_allclose(
        tf.make_ndarray(response.outputs[PREDICTION[model]]), expected, rtol=1e-5, atol=1e-5
    )


def test_tf_predict_output_filter(tfs):
    response = tfs.Predict(tf_request("sine", window_of("sine"), signature_name="serving_default"))
    every = set(response.outputs)
    request = tf_request("sine", window_of("sine"))
    request.output_filter.append("y")
    assert set(tfs.Predict(request).outputs) == {"y"} and "y" in every


def test_tf_predict_warnings_in_trailing_metadata(tfs):
    x = np.array([v * 40 for v in examples.SINE_X], dtype=np.float32).reshape(1, 20, 1)
    _, call = tfs.Predict.with_call(tf_request("sine", x))
    trailing = dict(call.trailing_metadata())
    assert int(trailing["warnings-count"]) == len(json.loads(trailing["warnings"])) > 0


@pytest.mark.parametrize("model", MODELS)
def test_tf_model_metadata_is_the_signature(tfs, served, model):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = model
    response = tfs.GetModelMetadata(request)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signatures)
    signature = signatures.signature_def["serving_default"]
    spec = served.rest.get(f"/models/{model}").json()
    dims = [d.size for d in signature.inputs["window"].tensor_shape.dim]
    assert dims == [-1, spec["input"]["window"], len(spec["input"]["features"])]
    assert PREDICTION[model] in signature.outputs
    assert signature.method_name == "tensorflow/serving/predict"


def test_tf_model_status_is_available(served):
    stub = model_service_pb2_grpc.ModelServiceStub(served.channel)
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "sine"
    [status] = stub.GetModelStatus(request).model_version_status
    assert status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert status.version == served.rest.get("/models/sine").json()["version"]
    request.model_spec.name = "nope"
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetModelStatus(request)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def short_tensor():
    proto = tf.make_tensor_proto(window_of("sine"))
    proto.tensor_content = proto.tensor_content[:-4]  # one value missing: TF would pad it
    return proto


def string_tensor():
    return tf.make_tensor_proto(np.array([["a"] * 20]))


TF_BAD = {  # case: (request, status code)
    "wrong shape": (lambda: tf_request("sine", np.zeros((1, 19, 1), np.float32)), INVALID),
    "NaN": (lambda: tf_request("sine", nan_window()), INVALID),
    "unknown model": (lambda: tf_request("nope", window_of("sine")), NOT_FOUND),
    "version not served": (lambda: tf_request("sine", window_of("sine"), version=7), NOT_FOUND),
    "version label": (lambda: tf_request("sine", window_of("sine"), version_label="stable"),
                      INVALID),
    "signature": (lambda: tf_request("sine", window_of("sine"), signature_name="predict"),
                  INVALID),
    "fewer values than the shape": (lambda: with_input(short_tensor()), INVALID),
    "strings": (lambda: with_input(string_tensor()), INVALID),
}  # fmt: skip


def with_input(proto) -> predict_pb2.PredictRequest:
    request = tf_request("sine", window_of("sine"))
    request.inputs["window"].CopyFrom(proto)
    return request


@pytest.mark.parametrize("case", TF_BAD)
def test_tf_bad_input_gets_its_status_code(tfs, case):
    request, code = TF_BAD[case]
    with pytest.raises(grpc.RpcError) as caught:
        tfs.Predict(request())
    assert caught.value.code() == getattr(grpc.StatusCode, code), caught.value.details()


def test_tf_classify_is_refused_as_tf_serving_refuses_a_predict_signature(tfs):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "sine"
    with pytest.raises(grpc.RpcError) as caught:
        tfs.Classify(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("Expected classification signature method_name")


# ---------------------------------------------------------------- health, key, metrics


CORE_ERRORS = [
    (InputError((0, 1, "x"), "must be a finite float32 number"), grpc.StatusCode.INVALID_ARGUMENT),
    (ModelNotFound("x"), grpc.StatusCode.NOT_FOUND),
    (VersionNotFound("x", 3), grpc.StatusCode.NOT_FOUND),
    (ModelUnavailable("x"), grpc.StatusCode.UNAVAILABLE),
    (NotReady(), grpc.StatusCode.UNAVAILABLE),
    (Overloaded("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unauthenticated("no key"), grpc.StatusCode.UNAUTHENTICATED),
]


@pytest.mark.parametrize(("error", "code"), CORE_ERRORS, ids=lambda e: type(e).__name__)
def test_each_core_error_has_its_status_code(error, code):
    assert status_of(error) == (code, error.message)


def test_health_serves_every_service(served):
    stub = health_pb2_grpc.HealthStub(served.channel)
    for service in grpc_health.SERVICES:
        answer = stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as caught:
        stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


class Readiness:
    """Stands for the registry where only readiness() is read."""

    def __init__(self, ready: bool) -> None:
        self.ready = ready

    def readiness(self, draining: bool = False) -> SimpleNamespace:
        return SimpleNamespace(ready=self.ready and not draining)


def test_health_follows_readiness_and_the_drain():
    async def statuses() -> list[str]:
        registry, lifecycle = Readiness(True), Lifecycle()
        settings = Settings(grpc_port=free_port())
        server, health = await serve(registry, settings, lifecycle=lifecycle)
        seen = []
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}") as channel:
                stub = health_pb2_grpc.HealthStub(channel)

                async def check() -> None:
                    answer = await stub.Check(health_pb2.HealthCheckRequest(service=""))
                    seen.append(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))

                await check()
                registry.ready = False  # a model failed: not ready
                await check()
                registry.ready = True
                await check()
                lifecycle.begin_drain()  # SIGTERM
                await check()
                await health.enter_graceful_shutdown()  # the lifespan ends
                lifecycle.draining = False
                await check()
        finally:
            await server.stop(None)
        return seen

    serving, not_serving = "SERVING", "NOT_SERVING"
    expected = [serving, not_serving, serving, not_serving, not_serving]
    assert asyncio.run(statuses()) == expected


@pytest.fixture(scope="module")
def keyed(fake_models_dir: Path) -> Iterator[str]:
    port = free_port()
    settings = Settings(
        models_dir=fake_models_dir, grpc_port=port, api_key=KEY, reload_interval_s=0
    )
    with TestClient(create_app(settings)):
        yield f"127.0.0.1:{port}"


def test_api_key_is_needed_except_for_health(keyed):
    client = triton.InferenceServerClient(keyed)
    with pytest.raises(InferenceServerException) as caught:
        client.get_model_metadata("sine")
    assert caught.value.status() == "StatusCode.UNAUTHENTICATED"
    with pytest.raises(InferenceServerException):
        client.get_model_metadata("sine", headers={"authorization": "Bearer wrong"})
    assert (
        client.get_model_metadata("sine", headers={"authorization": f"Bearer {KEY}"}).name == "sine"
    )
    with grpc.insecure_channel(keyed) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def count(method: str, code: str) -> float:
    labels = {"method": method, "code": code}
    return REGISTRY.get_sample_value("lstm_grpc_requests_total", labels) or 0.0


def test_calls_are_counted_by_method_and_code(v2):
    method = "inference.GRPCInferenceService/ModelInfer"
    ok, bad = count(method, "OK"), count(method, "INVALID_ARGUMENT")
    v2.infer("sine", [v2_input(window_of("sine"))])
    with pytest.raises(InferenceServerException):
        v2.infer("sine", [v2_input(nan_window())])
    assert (count(method, "OK"), count(method, "INVALID_ARGUMENT")) == (ok + 1, bad + 1)


def test_grpc_calls_show_on_the_apps_metrics(v2, served):
    v2.is_server_ready()
    text = served.rest.get("/metrics").text
    assert (
        'lstm_grpc_requests_total{code="OK",method="inference.GRPCInferenceService/ServerReady"}'
        in text
    )
    assert "lstm_grpc_request_duration_seconds_bucket" in text


def test_grpc_is_off_by_default():
    async def started():
        async with running(None, Settings()) as server:
            return server

    assert Settings.model_fields["grpc_port"].default == 0
    assert asyncio.run(started()) is None


# ---------------------------------------------------------------- the real process


def test_python_m_service_serves_grpc_and_drains_it_on_sigterm(fake_models_dir, tmp_path):
    """In uvicorn's loop (uvloop where installed): answers; on SIGTERM health turns
    NOT_SERVING during SHUTDOWN_DELAY_S while calls are still answered; then exit 0."""
    port = free_port()
    models = copy_models(fake_models_dir, tmp_path, ["sine"])
    proc, _ = live.start(models, {"GRPC_PORT": str(port), "SHUTDOWN_DELAY_S": "3"})
    try:
        client = triton.InferenceServerClient(f"127.0.0.1:{port}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)

            def status() -> str:
                answer = health.Check(health_pb2.HealthCheckRequest())
                return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)

            assert status() == "SERVING" and client.is_server_ready()
            proc.send_signal(signal.SIGTERM)
            for _ in range(50):  # bounded: the flag is set by the signal handler
                if status() == "NOT_SERVING":
                    break
                time.sleep(0.05)
            assert status() == "NOT_SERVING" and not client.is_server_ready()
            assert client.infer("sine", [v2_input(window_of("sine"))]).as_numpy("y").shape == (
                1, 20, 1,
            )  # fmt: skip
        assert proc.wait(timeout=40) == 0
        assert "gRPC stopped" in proc.stdout.read() and live.refused(port)
    finally:
        live.stop(proc)
