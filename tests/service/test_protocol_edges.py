"""Edges of the protocols that no client sends on purpose: each is a 4xx (or the protocol's
own answer), the same over REST and gRPC, never a 500 / INTERNAL. Version strings with
digits that are not ASCII, shapes numpy cannot hold, a long request id, readiness of what is
not there, the body's own model_version, and the error body of a request the gate refuses."""

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import grpc
import httpx
import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http
from fastapi.testclient import TestClient

from service.grpc.protos import inference_pb2 as v2_pb
from service.grpc.protos import inference_pb2_grpc as v2_grpc
from service.grpc.protos import tensorflow_pb2 as tf_pb
from service.grpc.protos import tensorflow_serving_pb2 as tfs_pb
from service.grpc.protos import tensorflow_serving_pb2_grpc as tfs_grpc
from service.main import create_app
from service.settings import Settings
from tests.service.live import free_port, served

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 64 * 1024  # MAX_BODY_BYTES of these servers


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """The committed sine model as version 5 (served) and 3 (older, on disk)."""
    out = tmp_path_factory.mktemp("edges")
    versions = [v for v in (ROOT / "models" / "sine").iterdir() if v.name.isdigit()]
    for version in ("5", "3"):
        shutil.copytree(max(versions, key=lambda v: int(v.name)), out / "sine" / version)
    return out


@pytest.fixture(scope="module")
def server(models: Path) -> Iterator[SimpleNamespace]:
    port = free_port()
    settings = Settings(models_dir=models, grpc_port=port, reload_interval_s=0,
                        max_body_bytes=LIMIT, log_level="WARNING")  # fmt: skip
    with served(settings) as url, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield SimpleNamespace(
            http=httpx.Client(base_url=url, timeout=30),
            v2=v2_grpc.GRPCInferenceServiceStub(channel),
            tfs=tfs_grpc.PredictionServiceStub(channel),
            status=tfs_grpc.ModelServiceStub(channel),
            triton_http=triton_http.InferenceServerClient(url.removeprefix("http://")),
            triton_grpc=triton_grpc.InferenceServerClient(f"127.0.0.1:{port}"),
        )


def grpc_error(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=10)
    return caught.value


def v2_rest(server, body: dict, path: str = "/v2/models/sine/infer") -> httpx.Response:
    return server.http.post(path, json=body)


def v2_body(shape: list[int], values: np.ndarray, **fields) -> dict:
    tensor = {"name": "window", "shape": shape, "datatype": "FP32", "data": values.tolist()}
    return {**fields, "inputs": [tensor]}


def v2_message(shape: list[int], values: np.ndarray, **fields) -> v2_pb.ModelInferRequest:
    message = v2_pb.ModelInferRequest(model_name="sine", **fields)
    message.inputs.add(name="window", datatype="FP32", shape=shape)
    message.raw_input_contents.append(values.astype("<f4").tobytes())
    return message


def assert_same_invalid(rest: httpx.Response, error: grpc.RpcError) -> None:
    """400 over REST, INVALID_ARGUMENT over gRPC, with the same message."""
    assert rest.status_code == 400 and set(rest.json()) == {"error"}, rest.text
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert rest.json()["error"] == error.details()


WINDOW = np.linspace(0.0, 1.9, 20)


# ---------------------------------------------------------------- versions


NOT_ASCII = ["\u00b2", "\u0665"]  # a superscript two, an Arabic-Indic five: str.isdigit()


@pytest.mark.parametrize("version", [*NOT_ASCII, "5.0", "+5", " 5", "5_0"])
def test_a_version_that_is_not_ascii_digits_is_refused_alike(server, version):
    quoted = httpx.URL(f"/v2/models/sine/versions/{version}").raw_path.decode()
    rest = server.http.get(quoted)
    error = grpc_error(
        server.v2.ModelMetadata, v2_pb.ModelMetadataRequest(name="sine", version=version)
    )
    assert_same_invalid(rest, error)
    assert server.http.get(f"{quoted}/ready").status_code == 400
    infer = v2_message([1, 20, 1], WINDOW, model_version=version)
    assert grpc_error(server.v2.ModelInfer, infer).code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("version", ["\u00b2", "5.0", "+5", "05.000", "5_0"])
def test_tf_serving_rest_takes_only_ascii_digits_in_a_version(server, version):
    path = httpx.URL(f"/v1/models/sine/versions/{version}").raw_path.decode()
    body = {"instances": [WINDOW.tolist()]}
    answers = [server.http.get(path), server.http.get(f"{path}/metadata"),
               server.http.post(f"{path}:predict", json=body)]  # fmt: skip
    for response in answers:
        assert response.status_code == 400, response.text
        assert response.json()["error"].startswith("Malformed request: "), response.text
    assert server.http.get("/v1/models/sine/versions/05").status_code == 200  # digits: 5


def test_a_binary_header_length_in_other_digits_is_refused(server):
    length = {"Inference-Header-Content-Length": "\u00b2".encode("latin-1")}
    response = server.http.post("/v2/models/sine/infer", content=b"{}", headers=length)
    assert response.status_code == 400 and "byte count" in response.json()["error"]


def test_status_of_version_0_names_it(server):
    rest = server.http.get("/v1/models/sine/versions/0")
    request = tfs_pb.GetModelStatusRequest(model_spec=tfs_pb.ModelSpec(name="sine"))
    request.model_spec.version.value = 0
    error = grpc_error(server.status.GetModelStatus, request)
    assert rest.status_code == 404 and error.code() == grpc.StatusCode.NOT_FOUND
    assert rest.json()["error"] == error.details() == "Could not find version 0 of model sine"


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("shape", "values"),
    [([], np.array([0.5])), ([0, 2**62], np.zeros(0)), ([1] * 68 + [20, 1], WINDOW)],
    ids=["zero dimensions", "a zero beside a huge dimension", "70 dimensions"],
)
def test_shapes_numpy_cannot_hold_are_refused_alike(server, shape, values):
    body = v2_body(shape, values)
    assert_same_invalid(
        v2_rest(server, body), grpc_error(server.v2.ModelInfer, v2_message(shape, values))
    )
    tensor = tf_pb.TensorProto(dtype=tf_pb.DT_FLOAT, float_val=values.tolist())
    tensor.tensor_shape.dim.extend(tf_pb.TensorShapeProto.Dim(size=d) for d in shape)
    predict = tfs_pb.PredictRequest(model_spec=tfs_pb.ModelSpec(name="sine"))
    predict.inputs["window"].CopyFrom(tensor)
    assert grpc_error(server.tfs.Predict, predict).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_negative_dimension_is_worded_alike(server):
    body = v2_body([-1, 20, 1], WINDOW)
    error = grpc_error(server.v2.ModelInfer, v2_message([-1, 20, 1], WINDOW))
    assert_same_invalid(v2_rest(server, body), error)


def test_a_flat_window_is_worded_alike_whatever_the_encoding(server):
    body = v2_body([20], WINDOW)
    assert_same_invalid(
        v2_rest(server, body), grpc_error(server.v2.ModelInfer, v2_message([20], WINDOW))
    )


# ---------------------------------------------------------------- ids, names, readiness


def test_a_request_id_over_128_characters_is_refused_alike(server):
    body = v2_body([1, 20, 1], WINDOW, id="x" * 129)
    error = grpc_error(server.v2.ModelInfer, v2_message([1, 20, 1], WINDOW, id="x" * 129))
    assert_same_invalid(v2_rest(server, body), error)
    body["id"] = "x" * 128
    assert v2_rest(server, body).json()["id"] == "x" * 128


@pytest.mark.parametrize(("version", "status"), [("3", 404), ("9", 404), ("05", 200)])
def test_the_bodys_model_version_finds_what_grpc_finds(server, version, status):
    body = v2_body([1, 20, 1], WINDOW, model_version=version)
    rest = v2_rest(server, body)
    assert rest.status_code == status, rest.text
    message = v2_message([1, 20, 1], WINDOW, model_version=version)
    if status == 200:
        assert (
            server.v2.ModelInfer(message, timeout=10).model_version == rest.json()["model_version"]
        )
    else:
        error = grpc_error(server.v2.ModelInfer, message)
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert rest.json()["error"] == error.details()


def test_the_bodys_model_version_must_agree_with_the_paths(server):
    body = v2_body([1, 20, 1], WINDOW, model_version="3")
    response = v2_rest(server, body, "/v2/models/sine/versions/5/infer")
    assert response.status_code == 400 and "model_version" in response.json()["error"]


@pytest.mark.parametrize(
    ("model", "version", "status"),
    [
        ("sine", "", 200),
        ("sine", "5", 200),
        ("sine", "3", 503),
        ("sine", "9", 404),
        ("nope", "", 404),
    ],
)
def test_readiness_reads_the_same_through_both_of_tritons_clients(server, model, version, status):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "")
    assert server.http.get(f"{path}/ready").status_code == status  # REST: by its status
    answer = server.v2.ModelReady(v2_pb.ModelReadyRequest(name=model, version=version), timeout=10)
    assert answer.ready is (status == 200)  # gRPC: by `ready` alone, as Triton answers it
    assert server.triton_http.is_model_ready(model, version) is (status == 200)
    assert server.triton_grpc.is_model_ready(model, version) is (status == 200)


def test_tf_serving_metadata_leaves_the_signature_name_empty_on_both(server):
    rest = server.http.get("/v1/models/sine/metadata").json()
    request = tfs_pb.GetModelMetadataRequest(model_spec=tfs_pb.ModelSpec(name="sine"),
                                             metadata_field=["signature_def"])  # fmt: skip
    answer = server.tfs.GetModelMetadata(request, timeout=10)
    assert rest["model_spec"]["signature_name"] == answer.model_spec.signature_name == ""
    assert str(answer.model_spec.version.value) == rest["model_spec"]["version"]


# ---------------------------------------------------------------- refusals by the gate


PROTOCOL_POSTS = ("/v2/models/sine/infer", "/v1/models/sine:predict")


@pytest.mark.parametrize("path", [*PROTOCOL_POSTS, "/predict/sine"])
def test_the_gates_refusals_answer_in_the_paths_error_body(server, path):
    expected = {"error"} if path.startswith(("/v1/", "/v2/")) else {"error", "detail"}
    json_type = {"Content-Type": "application/json"}
    bomb = gzip.compress(b" " * (LIMIT * 4))
    answers = [
        server.http.post(path, content=b"x" * (LIMIT + 1), headers=json_type),  # 413
        server.http.post(path, content=bomb, headers={**json_type, "Content-Encoding": "gzip"}),
        server.http.post(
            path, content=b"not gzip", headers={**json_type, "Content-Encoding": "gzip"}
        ),
        server.http.post(path, content=b"{}", headers={**json_type, "Content-Encoding": "br"}),
    ]
    assert [a.status_code for a in answers] == [413, 413, 400, 415]
    for answer in answers:
        assert set(answer.json()) == expected, (path, answer.text)


def test_behind_a_root_path_unknown_protocol_routes_answer_in_their_body(models):
    app = create_app(Settings(models_dir=models, reload_interval_s=0, log_level="WARNING"))
    with TestClient(app, root_path="/lstm") as client:
        for path in ("/lstm/v2/nothing", "/lstm/v2/models/sine/nothing"):
            response = client.get(path)
            assert response.status_code == 404 and set(response.json()) == {"error"}, path
        tf_serving = client.get("/lstm/v1/models/sine/x/y")  # its path below the root path
        assert tf_serving.status_code == 400
        assert tf_serving.json() == {"error": "Malformed request: GET /v1/models/sine/x/y"}
        native = client.get("/lstm/nothing")
        assert native.status_code == 404 and set(native.json()) == {"error", "detail"}
        refused = client.post("/lstm/v2/models/sine/infer", content=b"{}",
                              headers={"Content-Encoding": "br"})  # fmt: skip
        assert refused.status_code == 415 and set(refused.json()) == {"error"}


# ---------------------------------------------------------------- second pass


LONG = "1" * 5000  # past Python's 4,300-digit limit on int()


def test_a_version_of_thousands_of_digits_is_refused_not_a_500(server):
    for path in (f"/v2/models/sine/versions/{LONG}", f"/v2/models/sine/versions/{LONG}/ready"):
        response = server.http.get(path)
        assert response.status_code == 400 and "whole number" in response.json()["error"]
        assert len(response.json()["error"]) < 200  # the version is not echoed whole
    assert server.http.get(f"/v1/models/sine/versions/{LONG}").status_code == 400
    for call, request in (
        (server.v2.ModelReady, v2_pb.ModelReadyRequest(name="sine", version=LONG)),
        (server.v2.ModelInfer, v2_message([1, 20, 1], WINDOW, model_version=LONG)),
    ):
        assert grpc_error(call, request).code() == grpc.StatusCode.INVALID_ARGUMENT
    length = {"Inference-Header-Content-Length": LONG}
    response = server.http.post("/v2/models/sine/infer", content=b"{}", headers=length)
    assert response.status_code == 400 and "byte count" in response.json()["error"]


def test_an_interval_level_beyond_float64_is_refused(server):
    body = v2_body([1, 20, 1], WINDOW, parameters={"interval_level": 10**400})
    response = v2_rest(server, body)
    assert response.status_code == 400 and "interval_level" in response.json()["error"]


def test_a_shape_is_echoed_short(server):
    response = v2_rest(server, v2_body([1, 20, 10**400], WINDOW))
    assert response.status_code == 400 and len(response.json()["error"]) < 200


def test_tf_serving_rest_reads_methods_and_names_as_its_url_patterns(server):
    unknown = server.http.post("/v1/models/sine:foo", json={"instances": [WINDOW.tolist()]})
    versioned = server.http.post("/v1/models/sine/versions/5:foo", json={})
    assert unknown.status_code == versioned.status_code == 400
    assert unknown.json() == versioned.json() == {"error": "Unknown method: foo"}
    status = server.http.get("/v1/models/sine:predict")
    assert status.status_code == 400 and status.json()["error"].startswith("Malformed request")


def test_a_stock_row_with_a_value_past_its_features_is_refused(models):
    rows = [[10.0, 11.0, 9.0, 10.5, 1000.0]] * 19 + [[10.0, 11.0, 9.0, 10.5, 1000.0, 1.0, "x"]]
    settings = Settings(models_dir=ROOT / "models", reload_interval_s=0, log_level="WARNING")
    with TestClient(create_app(settings)) as client:
        for body in ({"instances": [rows]}, {"inputs": [rows]}, {"inputs": {"window": [rows]}}):
            response = client.post("/v1/models/stock:predict", json=body)
            assert response.status_code == 400, response.text


@pytest.fixture(scope="module")
def keyed(models: Path) -> Iterator[SimpleNamespace]:
    port = free_port()
    settings = Settings(models_dir=models, grpc_port=port, reload_interval_s=0,
                        api_key="secret", log_level="WARNING")  # fmt: skip
    with served(settings) as url, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield SimpleNamespace(http=httpx.Client(base_url=url, timeout=30),
                              v2=v2_grpc.GRPCInferenceServiceStub(channel))  # fmt: skip


@pytest.mark.parametrize("keys", [("secret", "wrong"), ("wrong", "secret"), ("secret", "secret")])
def test_two_authorizations_are_refused_alike_in_any_order(keyed, keys):
    rest = keyed.http.post("/v2/models/sine/infer", json=v2_body([1, 20, 1], WINDOW),
                           headers=[("Authorization", f"Bearer {k}") for k in keys])  # fmt: skip
    metadata = [("authorization", f"Bearer {k}") for k in keys]
    with pytest.raises(grpc.RpcError) as caught:
        keyed.v2.ModelInfer(v2_message([1, 20, 1], WINDOW), metadata=metadata, timeout=10)
    assert rest.status_code == 400 and caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    if keys[0] == "secret":  # the first entry alone is a good key
        one = keyed.v2.ModelInfer(v2_message([1, 20, 1], WINDOW), metadata=metadata[:1], timeout=10)
        assert one.model_name == "sine"


@pytest.mark.parametrize(
    "shape",
    [[-1, 20, 1], [1] * 9, [300, 20, 1], [0, 10**9]],
    ids=["negative", "9 dims", "300 windows", "huge"],
)
def test_tf_serving_and_v2_refuse_a_shape_in_the_same_words(server, shape):
    values = np.zeros(0) if 0 in shape else WINDOW
    v2_error = grpc_error(server.v2.ModelInfer, v2_message(shape, values))
    tensor = tf_pb.TensorProto(dtype=tf_pb.DT_FLOAT, float_val=values.tolist())
    tensor.tensor_shape.dim.extend(tf_pb.TensorShapeProto.Dim(size=d) for d in shape)
    predict = tfs_pb.PredictRequest(model_spec=tfs_pb.ModelSpec(name="sine"))
    predict.inputs["window"].CopyFrom(tensor)
    tf_error = grpc_error(server.tfs.Predict, predict)
    assert v2_error.code() == tf_error.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason = v2_error.details().split(": ", 1)[1]
    assert tf_error.details() == f"window: shape {reason}"
