"""The conformance matrix: one list of cases, each through every transport of its protocol.

The Open Inference Protocol goes through tritonclient's HTTP and gRPC clients and KServe's
SDK (its InferenceRESTClient), TF Serving's API through its REST JSON and its gRPC stubs, and
the prediction cases also through the native route. Every transport must give the case's
expected answer: the same values, bit for bit, or an error of the same kind
(service.protocols.errors maps statuses to kinds).
docs/protocols.md shows the matrix; the test checks the page against `CASES`.
"""

import functools
import gzip
import json
import re
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import httpx
import numpy as np
import pytest
import tensorflow as tf
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tritonclient.utils import InferenceServerException

from service import examples
from service.protocols.errors import KINDS
from service.settings import Settings
from tests.service.live import free_port, served

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocols.md"
KSERVE = "v2 REST, KServe SDK"
KSERVE_GRPC = "v2 gRPC, KServe SDK"
COLUMNS = ("v2 REST", KSERVE, "v2 gRPC", KSERVE_GRPC, "TF Serving REST", "TF Serving gRPC",
           "native REST")  # fmt: skip
OK = "ok"
BY_HTTP = {k.http: kind for kind, k in KINDS.items()} | {422: "invalid_argument"}
BY_GRPC = {k.grpc: kind for kind, k in reversed(KINDS.items())}  # too_large shares a code


# ---------------------------------------------------------------- the served models


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """The committed models, plus: an older stock version on disk (3), version labels for
    sine, and a fourth model, "tide", a curve under a name the service has never heard of."""
    out = tmp_path_factory.mktemp("conformance")
    for name in ("sine", "classify"):
        shutil.copytree(ROOT / "models" / name, out / name)
    # the committed stock export, whatever its version, as version 4 (served) and 3 (older)
    versions = (ROOT / "models" / "stock").iterdir()
    stock = max((v for v in versions if v.name.isdigit()), key=lambda v: int(v.name))
    for version in ("4", "3"):
        shutil.copytree(stock, out / "stock" / version)
    (out / "sine" / "labels.json").write_text(json.dumps({"stable": 4, "gone": 9}))
    shutil.copytree(ROOT / "models" / "sine", out / "tide")
    _rename(out / "tide" / "4", "tide")
    return out


def _rename(version: Path, name: str) -> None:
    meta = json.loads((version / "metadata.json").read_text())
    meta["name"] = name
    (version / "metadata.json").write_text(json.dumps(meta))


@pytest.fixture(scope="module")
def server(models: Path) -> Iterator[SimpleNamespace]:
    port = free_port()
    settings = Settings(models_dir=models, grpc_port=port, reload_interval_s=0, log_level="WARNING")
    with served(settings) as url, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield SimpleNamespace(
            url=url,
            grpc_target=f"127.0.0.1:{port}",
            http=httpx.Client(base_url=url, timeout=30),
            channel=channel,
            v2_http=triton_http.InferenceServerClient(url.removeprefix("http://")),
            v2_grpc=triton_grpc.InferenceServerClient(f"127.0.0.1:{port}"),
            tfs=prediction_service_pb2_grpc.PredictionServiceStub(channel),
            status=model_service_pb2_grpc.ModelServiceStub(channel),
            kserve=functools.cache(kserve_calls),  # once, on first use
        )


# ---------------------------------------------------------------- the cases


def window(model: str, n: int = 1) -> np.ndarray:
    """`n` copies of the examples' window for `model`, float32 `(n, window, F)`."""
    if model == "stock":
        names = ("open", "high", "low", "close", "volume")
        base = np.array([[r[f] for f in names] for r in examples.STOCK_ROWS])
    else:
        base = np.array(examples.CLASSIFY_X if model == "classify" else examples.SINE_X)
    features = 5 if model == "stock" else 1
    return np.repeat(base.reshape(1, 20, features), n, axis=0).astype(np.float32)


@dataclass(frozen=True)
class Case:
    """One request, the same through every column that has a `cells` entry."""

    name: str
    model: str = "sine"
    dtype: str = "FP32"
    values: Callable[[], np.ndarray] = field(default=lambda: window("sine"))
    version: str = ""
    label: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)  # output name -> its parameters
    cells: dict[str, str] = field(default_factory=dict)  # column -> ok or an error kind
    kind: str = "infer"  # infer, metadata, ready, config, corrupt, server, server ready
    compression: str = ""  # the request body's coding: gzip or deflate, as each client sends it
    signature: str = ""  # TF Serving's signature_name (REST body, gRPC ModelSpec)
    output_filter: tuple[str, ...] = ()  # TF Serving gRPC's output_filter (REST has none)


V2 = ("v2 REST", "v2 gRPC")
TF = ("TF Serving REST", "TF Serving gRPC")
ALL = (*V2, *TF)


def every(expected: str, columns=ALL, native: bool = False, kserve: bool | str = False) -> dict:
    """`expected` in `columns`, the native route's if `native`, and the KServe SDK's clients'
    if `kserve` (both, or "rest" alone: its gRPC client sends no float parameter)."""
    sdk = (KSERVE,) if kserve == "rest" else (KSERVE, KSERVE_GRPC) if kserve else ()
    extra = (*(("native REST",) if native else ()), *sdk)
    return {c: expected for c in (*columns, *extra)}


CASES = [
    Case("FP32 stock window", "stock", values=lambda: window("stock"),
         cells=every(OK, native=True, kserve=True)),
    Case("FP32 sine windows", values=lambda: window("sine", 3),
         cells=every(OK, native=True, kserve=True)),
    Case("FP32 classify window", "classify", values=lambda: window("classify"),
         cells=every(OK, native=True, kserve=True)),
    Case("FP64 sine window", dtype="FP64", cells=every(OK, kserve=True)),
    Case("window without its feature axis", values=lambda: window("sine")[..., 0],
         cells=every(OK)),
    Case("BYTES refused", dtype="BYTES", cells=every("invalid_argument")),
    Case("INT32 refused", dtype="INT32",  # REST JSON has no integer type: not a case there
         cells=every("invalid_argument", (*V2, "TF Serving gRPC"))),
    Case("shape [1, 19, 1] refused", values=lambda: window("sine")[:, :19],
         cells=every("invalid_argument")),
    Case("NaN refused", values=lambda: np.where(np.arange(20) == 3, np.nan, window("sine")[0, :, 0]
                                                ).reshape(1, 20, 1).astype(np.float32),
         cells=every("invalid_argument", native=True, kserve=True)),
    Case("version served", version="4", cells=every(OK)),
    Case("version not served", version="7", cells=every("not_found")),
    Case("version malformed", version="v1",
         cells={**every("invalid_argument", V2), "TF Serving REST": "invalid_argument"}),
    Case("label known", label="stable", cells=every(OK, TF)),
    Case("label unknown", label="canary", cells=every("invalid_argument", TF)),
    Case("label of a version not served", label="gone", cells=every("not_found", TF)),
    Case("unknown model", "nope", cells=every("not_found", native=True, kserve=True)),
    Case("parameter interval_level, double", parameters={"interval_level": 0.9},
         cells=every(OK, V2, kserve="rest")),
    Case("parameter interval_level, other level", parameters={"interval_level": 0.5},
         cells=every("invalid_argument", V2, kserve="rest")),
    Case("parameter interval_level, int64", parameters={"interval_level": 1},
         cells=every("invalid_argument", V2)),
    Case("parameter interval_level, string", parameters={"interval_level": "0.9"},
         cells=every("invalid_argument", V2)),
    Case("parameter unknown, bool", parameters={"trace": True}, cells=every(OK, V2)),
    Case("output classification, int64", outputs={"y": {"class_count": 2}},
         cells=every("invalid_argument", V2)),
    Case("fourth model (tide, a curve)", "tide", values=lambda: window("sine"),
         cells=every(OK, native=True, kserve=True)),
    Case("signature serving_default", signature="serving_default", cells=every(OK, TF)),
    Case("signature unknown", signature="nope", cells=every("invalid_argument", TF)),
    Case("output_filter next_close", "stock", values=lambda: window("stock"),
         output_filter=("next_close",), cells={"TF Serving gRPC": OK, "native REST": OK}),
    Case("output_filter unknown output", output_filter=("nope",),
         cells={"TF Serving gRPC": "invalid_argument"}),
    Case("classify or regress on a predict signature", kind="classify",
         cells=every("invalid_argument", TF)),
    Case("server metadata", kind="server", cells=every(OK, V2)),
    Case("server live and ready", kind="server ready", cells=every(OK, V2)),
    Case("model metadata", kind="metadata", cells=every(OK)),
    Case("model metadata, unknown model", "nope", kind="metadata", cells=every("not_found")),
    Case("model config", kind="config", cells=every(OK, V2)),
    Case("ready, served version", "stock", version="4", kind="ready", cells=every(OK, V2)),
    Case("ready, older version on disk", "stock", version="3", kind="ready",
         cells=every("not ready", V2)),
    Case("ready, version not on disk", "stock", version="7", kind="ready",
         cells=every("not ready", V2)),
    Case("ready, unknown model", "nope", kind="ready", cells=every("not ready", V2)),
    Case("corrupt body", kind="corrupt", cells=every("invalid_argument", native=True)),
    Case("gzip request body", compression="gzip", cells=every(OK, native=True)),
    Case("deflate request body", compression="deflate", cells=every(OK, native=True)),
]  # fmt: skip


# ---------------------------------------------------------------- running one case


PREDICTION = {"stock": "next_close", "sine": "y", "classify": "probabilities", "tide": "y"}


def kind_of_http(status: int) -> str:
    return OK if status == 200 else BY_HTTP.get(status, f"HTTP {status}")


def v2_input(module, case: Case):
    values = case.values()
    if case.dtype == "BYTES":
        values = values.astype(np.object_)
    elif case.dtype == "INT32":
        values = values.astype(np.int32)
    elif case.dtype == "FP64":
        values = values.astype(np.float64)
    tensor = module.InferInput("window", list(values.shape), case.dtype)
    tensor.set_data_from_numpy(values)
    return tensor


def run_v2(server, case: Case, column: str) -> tuple[str, Any]:
    client, module = (
        (server.v2_http, triton_http) if column == "v2 REST" else (server.v2_grpc, triton_grpc)
    )
    try:
        return OK, _v2_call(server, client, module, case, column)
    except InferenceServerException as exc:
        status = exc.status()
        if column == "v2 REST":
            return kind_of_http(int(status)), exc.message()
        return BY_GRPC.get(status.removeprefix("StatusCode."), status), exc.message()


def _v2_call(server, client, module, case: Case, column: str) -> Any:
    if case.kind == "server":
        meta = client.get_server_metadata()
        return meta if column == "v2 REST" else {"name": meta.name, "version": meta.version,
                                                 "extensions": list(meta.extensions)}  # fmt: skip
    if case.kind == "server ready":
        return {"live": client.is_server_live(), "ready": client.is_server_ready()}
    if case.kind == "metadata":
        meta = client.get_model_metadata(case.model, case.version)
        return _v2_metadata(meta, column)
    if case.kind == "config":
        found = client.get_model_config(case.model, case.version, **_json(column))
        config = found if column == "v2 REST" else found["config"]
        return {k: config[k] for k in ("name", "platform")} | {
            "input": [(t["name"], [int(d) for d in t["dims"]]) for t in config["input"]],
            "output": [(t["name"], t["data_type"]) for t in config["output"]],
        }
    if case.kind == "ready":
        return _v2_ready(server, client, case, column)
    if case.kind == "corrupt":
        return _corrupt_v2(server, column)
    asked = [module.InferRequestedOutput(n, **p) for n, p in case.outputs.items()] or None
    coding = {}
    if case.compression:  # tritonclient's own option, named differently by its two clients
        key = "request_compression_algorithm" if column == "v2 REST" else "compression_algorithm"
        coding = {key: case.compression}
    result = client.infer(case.model, [v2_input(module, case)], case.version, outputs=asked,
                          parameters=case.parameters or None, **coding)  # fmt: skip
    return result.as_numpy(PREDICTION[case.model])


def _json(column: str) -> dict:
    return {} if column == "v2 REST" else {"as_json": True}


def _v2_metadata(meta, column: str) -> dict:
    if column == "v2 REST":
        return meta

    def tensors(found) -> list[dict]:
        return [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in found]

    return {"name": meta.name, "versions": list(meta.versions), "platform": meta.platform,
            "inputs": tensors(meta.inputs), "outputs": tensors(meta.outputs)}  # fmt: skip


def _v2_ready(server, client, case: Case, column: str) -> Any:
    """What tritonclient's `is_model_ready` says (REST's statuses: test_protocol_edges.py)."""
    ready = client.is_model_ready(case.model, case.version)
    if not ready:
        raise _NotReady()
    return ready


class _NotReady(Exception):
    pass


def _corrupt_v2(server, column: str) -> Any:
    if column == "v2 REST":
        response = server.http.post("/v2/models/sine/infer", content=b'{"inputs": [')
        if response.status_code != 200:
            raise InferenceServerException(response.json()["error"], str(response.status_code))
        return response.json()
    call = server.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
    try:
        return call(b"\xff\xff\xff\xff")
    except grpc.RpcError as exc:
        raise InferenceServerException(exc.details(), f"StatusCode.{exc.code().name}") from None


def run_tf(server, case: Case, column: str) -> tuple[str, Any]:
    try:
        if column == "TF Serving REST":
            return _tf_rest(server, case)
        return OK, _tf_grpc(server, case)
    except grpc.RpcError as exc:
        return BY_GRPC.get(exc.code().name, exc.code().name), exc.details()


def _tf_path(case: Case) -> str:
    path = f"/v1/models/{case.model}"
    if case.version:
        return f"{path}/versions/{case.version}"
    return f"{path}/labels/{case.label}" if case.label else path


def _tf_rest(server, case: Case) -> tuple[str, Any]:
    path = _tf_path(case)
    if case.kind == "metadata":
        response = server.http.get(f"{path}/metadata")
    elif case.kind == "classify":
        response = server.http.post(f"{path}:classify", json={"examples": [{"x": 1.0}]})
    elif case.kind == "corrupt":
        response = server.http.post(f"{path}:predict", content=b'{"instances": [')
    else:
        values = case.values()
        payload = values.tolist() if case.dtype != "BYTES" else values.astype(str).tolist()
        named = {"signature_name": case.signature} if case.signature else {}
        body = json.dumps({**named, "instances": payload})  # NaN: JSON's common extension
        response = server.http.post(f"{path}:predict", **coded(body.encode(), case))
    body = response.json()
    if response.status_code != 200:
        return kind_of_http(response.status_code), body["error"]
    if case.kind == "metadata":
        return OK, pruned(body["metadata"]["signature_def"])
    return OK, np.array([p[PREDICTION[case.model]] for p in body["predictions"]], np.float32)


GRPC_CODINGS = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}


def coded(body: bytes, case: Case) -> dict[str, Any]:
    """A JSON body as httpx sends it, compressed (Content-Encoding) when the case says so."""
    headers = {"Content-Type": "application/json"}
    if case.compression:
        body = gzip.compress(body) if case.compression == "gzip" else zlib.compress(body)
        headers["Content-Encoding"] = case.compression
    return {"content": body, "headers": headers}


def pruned(value: Any) -> Any:
    """Without the fields protobuf's JSON leaves out at their default ("", false)."""
    if isinstance(value, dict):
        return {k: pruned(v) for k, v in value.items() if v not in ("", False, None)}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def _tf_spec(request, case: Case):
    request.model_spec.name = case.model
    if case.version:
        request.model_spec.version.value = int(case.version)
    if case.label:
        request.model_spec.version_label = case.label
    if case.signature:
        request.model_spec.signature_name = case.signature
    return request


def _tf_grpc(server, case: Case) -> Any:
    if case.kind == "metadata":
        request = _tf_spec(get_model_metadata_pb2.GetModelMetadataRequest(), case)
        request.metadata_field.append("signature_def")
        answer = server.tfs.GetModelMetadata(request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        answer.metadata["signature_def"].Unpack(signatures)
        return pruned(json_format.MessageToDict(signatures, preserving_proto_field_name=True))
    if case.kind == "classify":
        return server.tfs.Classify(_tf_spec(classification_pb2.ClassificationRequest(), case))
    if case.kind == "corrupt":
        call = server.channel.unary_unary("/tensorflow.serving.PredictionService/Predict")
        return call(b"\xff\xff\xff\xff")
    values = case.values()
    dtype = {"FP32": np.float32, "FP64": np.float64, "INT32": np.int32, "BYTES": np.str_}
    request = _tf_spec(predict_pb2.PredictRequest(), case)
    request.inputs["window"].CopyFrom(tf.make_tensor_proto(values.astype(dtype[case.dtype])))
    request.output_filter.extend(case.output_filter)
    answer = server.tfs.Predict(request, compression=GRPC_CODINGS.get(case.compression))
    if case.output_filter:  # only those outputs come back
        assert sorted(answer.outputs) == sorted(case.output_filter), list(answer.outputs)
    return tf.make_ndarray(answer.outputs[PREDICTION[case.model]])


def run_native(server, case: Case, column: str) -> tuple[str, Any]:
    if case.kind == "corrupt":
        response = server.http.post("/predict/sine", content=b'{"x": [',
                                    headers={"Content-Type": "application/json"})  # fmt: skip
        return kind_of_http(response.status_code), response.json()["error"]
    values = case.values()
    if case.model == "stock":
        names = ("open", "high", "low", "close", "volume")
        body = {"rows": [dict(zip(names, map(float, row), strict=True)) for row in values[0]]}
    else:
        body = {"x": values[..., 0].tolist()}
    response = server.http.post(f"/predict/{case.model}", **coded(json.dumps(body).encode(), case))
    if response.status_code != 200:
        return kind_of_http(response.status_code), response.json()["error"]
    answer = response.json()
    if case.model == "stock":
        return OK, np.array(answer["predictions"], np.float32).reshape(-1, 1)
    key = "probabilities" if case.model == "classify" else "y"
    found = np.array(answer[key], np.float32)
    return OK, found if key == "probabilities" else found[..., np.newaxis]


def kserve_calls(url: str, grpc_target: str = "") -> dict[str, dict]:
    """Every case of the KServe SDK's REST client (or, given the gRPC address, its gRPC
    client), made in one process of its own (kserve_client.py says why)."""
    column = KSERVE_GRPC if grpc_target else KSERVE
    cases = [c for c in CASES if column in c.cells]
    calls = [{"op": "infer", "model": c.model, "batch": c.values().tolist(), "binary": i % 2 == 0,
              "datatype": c.dtype, "parameters": c.parameters or None}
             for i, c in enumerate(cases)]  # fmt: skip
    given = json.dumps({"url": url, "grpc": grpc_target, "calls": calls})
    done = subprocess.run([sys.executable, "-m", "tests.service.kserve_client"], input=given,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])["results"]
    return {c.name: r for c, r in zip(cases, results, strict=True)}


def run_kserve(server, case: Case, column: str) -> tuple[str, Any]:
    grpc_target = server.grpc_target if column == KSERVE_GRPC else ""
    result = server.kserve(server.url, grpc_target)[case.name]
    if "status" in result:
        return kind_of_http(result["status"]), result["error"]
    if "grpc_status" in result:
        return BY_GRPC.get(result["grpc_status"], result["grpc_status"]), result["error"]
    found = result["outputs"][PREDICTION[case.model]]
    return OK, np.array(found["data"], np.float32).reshape(found["shape"])


RUNNERS = {"v2 REST": run_v2, KSERVE: run_kserve, "v2 gRPC": run_v2, KSERVE_GRPC: run_kserve,
           "TF Serving REST": run_tf, "TF Serving gRPC": run_tf,
           "native REST": run_native}  # fmt: skip


def outcome(server, case: Case, column: str) -> tuple[str, Any]:
    try:
        return RUNNERS[column](server, case, column)
    except _NotReady:
        return "not ready", None


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_transport_answers_the_case_alike(server, case):
    results = {column: outcome(server, case, column) for column in case.cells}
    kinds = {column: kind for column, (kind, _) in results.items()}
    assert kinds == case.cells, {c: str(r[1])[:200] for c, r in results.items()}
    answers = [(c, value) for c, (kind, value) in results.items() if kind == OK]
    if case.kind in ("infer", "server", "server ready", "metadata", "config") and len(answers) > 1:
        _, first = answers[0]
        by_protocol: dict[str, Any] = {}
        for column, value in answers:
            if isinstance(value, np.ndarray):  # every transport, every protocol: bit for bit
                assert value.dtype == first.dtype and np.array_equal(value, first), column
            else:  # metadata: equal within a protocol
                protocol = column.split()[0]
                assert by_protocol.setdefault(protocol, value) == value, column


def test_errors_never_answer_unknown_or_internal(server):
    """A corrupt gRPC message is INVALID_ARGUMENT with its reason, not UNKNOWN."""
    call = server.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
    with pytest.raises(grpc.RpcError) as caught:
        call(b"\x0a\xff\xff")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid" in caught.value.details()


def test_health_probe_and_server_reflection(server):
    stub = health_pb2_grpc.HealthStub(server.channel)
    answer = stub.Check(health_pb2.HealthCheckRequest(service="inference.GRPCInferenceService"))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    reflect = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    [response] = list(reflect.ServerReflectionInfo(iter([request])))
    names = {s.name for s in response.list_services_response.service}
    assert {"inference.GRPCInferenceService", "tensorflow.serving.PredictionService",
            "tensorflow.serving.ModelService", "grpc.health.v1.Health"} <= names  # fmt: skip


def test_tf_serving_status_names_the_label_and_every_version(server):
    rest = server.http.get("/v1/models/stock").json()
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "stock"
    answer = server.status.GetModelStatus(request)
    versions = [(int(s["version"]), s["state"]) for s in rest["model_version_status"]]
    assert versions == [(s.version, get_model_status_pb2.ModelVersionStatus.State.Name(s.state))
                        for s in answer.model_version_status]  # fmt: skip
    assert versions == [(4, "AVAILABLE"), (3, "END")]
    labelled = server.http.get("/v1/models/sine/labels/stable").json()
    assert [s["version"] for s in labelled["model_version_status"]] == ["4"]


def test_unknown_routes_answer_in_their_protocols_error_body(server):
    for path in ("/v2/nothing", "/v2/models/sine/nothing"):
        response = server.http.get(path)
        assert response.status_code == 404 and set(response.json()) == {"error"}, path
    # TF Serving answers every /v1/ path its patterns do not match 400, `Malformed request`
    unmatched = [("GET", "/v1/models/sine/nothing/here"), ("GET", "/v1/nothing"),
                 ("POST", "/v1/models/sine"), ("DELETE", "/v1/models/sine:predict")]  # fmt: skip
    for method, path in unmatched:
        response = server.http.request(method, path)
        assert response.status_code == 400, (method, path)
        assert response.json() == {"error": f"Malformed request: {method} {path}"}
    native = server.http.get("/nothing")
    assert native.status_code == 404 and set(native.json()) == {"error", "detail"}


def matrix() -> str:
    """The matrix as docs/protocols.md shows it."""
    lines = ["| Case | " + " | ".join(COLUMNS) + " |", "|" + " --- |" * (len(COLUMNS) + 1)]
    for case in CASES:
        cells = [case.cells.get(c, "n/a") for c in COLUMNS]
        lines.append(f"| {case.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_docs_matrix_is_the_cases():
    found = re.search(r"<!-- conformance -->\n(.*?)\n<!-- /conformance -->", DOC.read_text(), re.S)
    assert found, "docs/protocols.md lacks the conformance matrix"
    assert found.group(1).strip() == matrix(), "docs/protocols.md: rewrite the matrix"


if __name__ == "__main__":  # prints the matrix for the docs
    print(matrix())


def test_the_docs_error_table_is_the_one_table():
    rows = re.findall(r"^\| `(\w+)` \| (\d+)[^|]* \| (\d+) \| `(\w+)` \|$", DOC.read_text(), re.M)
    shown = {kind: (int(http), int(native), code) for kind, http, native, code in rows}
    assert shown == {kind: (k.http, k.native, k.grpc) for kind, k in KINDS.items()}
