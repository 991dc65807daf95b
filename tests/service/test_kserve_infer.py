"""The Open Inference Protocol's inference and metadata routes, in process: answers equal the
native routes', every bad input is the protocol's 400, and the binary extension round-trips."""

import json
import struct

import numpy as np
import pytest

from service.examples import CLASSIFY_X, SINE_X, STOCK_ROWS
from tests.service.test_drift import FAR_X

FEATURES = ["open", "high", "low", "close", "volume"]
LATER = {"open": 2740.0, "high": 2750.0, "low": 2730.0, "close": 2745.0, "volume": 3.5e9}
UNDATED = [{k: v for k, v in row.items() if k != "date"} for row in STOCK_ROWS]
TABLE = np.array([[r[f] for f in FEATURES] for r in [*UNDATED, LATER]])  # (21, 5): 2 windows
STOCK = np.stack([TABLE[:20], TABLE[1:]])  # (2, 20, 5), the sliding windows of the 21 rows
SINE = np.array([SINE_X, FAR_X])[..., np.newaxis]  # (2, 20, 1)
CLASSIFY = np.array([CLASSIFY_X])[..., np.newaxis]  # (1, 20, 1)
HEADER = "Inference-Header-Content-Length"


def tensor(batch: np.ndarray, **fields) -> dict:
    return {"name": "window", "shape": list(batch.shape), "datatype": "FP32",
            "data": batch.ravel().tolist(), **fields}  # fmt: skip


def infer(client, name: str, body: dict, version: int | str | None = None):
    path = f"/v2/models/{name}" + (f"/versions/{version}" if version is not None else "")
    return client.post(f"{path}/infer", json=body)


def outputs(answer: dict) -> dict[str, np.ndarray]:
    return {o["name"]: np.reshape(o["data"], o["shape"]) for o in answer["outputs"]}


def v2_error(response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    assert fragment in response.json()["error"], response.json()["error"]


def test_stock_outputs_equal_the_native_route(client):
    answer = infer(client, "stock", {"inputs": [tensor(STOCK)]})
    assert answer.status_code == 200, answer.text
    native = client.post("/predict/stock", json={"rows": [*UNDATED, LATER]}).json()
    got = outputs(answer.json())
    np.testing.assert_allclose(got["next_close"][:, 0], native["predictions"], rtol=1e-6)
    np.testing.assert_allclose(got["lower"][:, 0], [i["lower"] for i in native["intervals"]],
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(got["upper"][:, 0], [i["upper"] for i in native["intervals"]],
                               rtol=1e-6)  # fmt: skip
    assert got["drift_score"].shape == (2, 20, 5)
    assert answer.json()["parameters"] == {"interval_level": native["intervals"][0]["level"]}
    assert answer.json()["model_name"] == "stock"
    assert answer.json()["model_version"] == str(native["version"])


def test_curve_outputs_equal_the_native_routes(client):
    sine = outputs(infer(client, "sine", {"inputs": [tensor(SINE)]}).json())
    native = client.post("/predict/sine", json={"x": [SINE_X, FAR_X]}).json()
    np.testing.assert_allclose(sine["y"][..., 0], native["y"], rtol=1e-6)
    lower = [[i["lower"] for i in window] for window in native["intervals"]]
    np.testing.assert_allclose(sine["lower"][..., 0], lower, rtol=1e-6)
    classify = outputs(infer(client, "classify", {"inputs": [tensor(CLASSIFY)]}).json())
    native = client.post("/classify", json={"x": CLASSIFY_X}).json()
    np.testing.assert_allclose(classify["probabilities"][0], native["probabilities"], rtol=1e-6)
    assert "lower" not in classify  # no interval: the signature has none


def test_nested_data_answers_as_flat_data(client):
    flat = infer(client, "sine", {"inputs": [tensor(SINE)]}).json()
    nested = infer(client, "sine", {"inputs": [tensor(SINE, data=SINE.tolist())]}).json()
    assert nested["outputs"] == flat["outputs"]


def test_fp64_and_a_window_without_its_feature_axis_are_accepted(client):
    flat = infer(client, "sine", {"inputs": [tensor(SINE)]}).json()
    fp64 = infer(client, "sine", {"inputs": [tensor(SINE, datatype="FP64")]}).json()
    plain = infer(client, "sine", {"inputs": [tensor(SINE[..., 0])]}).json()
    assert fp64["outputs"] == flat["outputs"] == plain["outputs"]


def test_outputs_selects_in_the_order_asked(client):
    body = {"inputs": [tensor(STOCK)], "outputs": [{"name": "upper"}, {"name": "next_close"}]}
    answer = infer(client, "stock", body).json()
    assert [o["name"] for o in answer["outputs"]] == ["upper", "next_close"]
    everything = infer(client, "stock", {"inputs": [tensor(STOCK)]}).json()
    names = [o["name"] for o in everything["outputs"]]
    assert names == ["next_close", "lower", "upper", "drift_value", "drift_score", "warnings"]


def test_warnings_travel_as_a_bytes_output_equal_to_the_native_ones(committed_client):
    answer = infer(committed_client, "sine", {"inputs": [tensor(SINE)]}).json()
    [found] = [o for o in answer["outputs"] if o["name"] == "warnings"]
    native = committed_client.post("/predict/sine", json={"x": [SINE_X, FAR_X]}).json()
    assert found["datatype"] == "BYTES" and found["shape"] == [len(native["warnings"])]
    assert [json.loads(w) for w in found["data"]] == native["warnings"]
    assert {w["window"] for w in native["warnings"]} == {1}  # the far window only


def test_id_is_echoed_or_the_request_id(client):
    given = infer(client, "sine", {"id": "abc-1", "inputs": [tensor(SINE)]})
    assert given.json()["id"] == "abc-1"
    anonymous = infer(client, "sine", {"inputs": [tensor(SINE)]})
    assert anonymous.json()["id"] == anonymous.headers["x-request-id"]


def test_model_name_and_version_in_the_body_must_match_the_path(client):
    version = client.get("/models/sine").json()["version"]
    body = {"model_name": "sine", "model_version": str(version), "inputs": [tensor(SINE)]}
    assert infer(client, "sine", body).status_code == 200
    v2_error(infer(client, "sine", {**body, "model_name": "stock"}), 400, "model_name")
    # with no version in the path, the body's picks one, as gRPC's model_version field does
    v2_error(infer(client, "sine", {**body, "model_version": "99"}), 404, "no version 99")
    pinned = client.post(f"/v2/models/sine/versions/{version}/infer",
                         json={**body, "model_version": "99"})  # fmt: skip
    v2_error(pinned, 400, "model_version")


def binary_body(batch: np.ndarray, **request) -> tuple[bytes, dict]:
    raw = batch.astype("<f4").tobytes()
    window = {"name": "window", "shape": list(batch.shape), "datatype": "FP32",
              "parameters": {"binary_data_size": len(raw)}}  # fmt: skip
    head = json.dumps({"inputs": [window], **request}).encode()
    return head + raw, {HEADER: str(len(head)), "content-type": "application/octet-stream"}


def read_binary(response) -> dict[str, np.ndarray | list[bytes]]:
    """The outputs of a binary answer, as a client of the extension decodes them."""
    n = int(response.headers[HEADER])
    head, raw = json.loads(response.content[:n]), response.content[n:]
    found: dict[str, np.ndarray | list[bytes]] = {}
    for output in head["outputs"]:
        size = output["parameters"]["binary_data_size"]
        chunk, raw = raw[:size], raw[size:]
        if output["datatype"] == "BYTES":
            items = []
            while chunk:
                (length,) = struct.unpack_from("<I", chunk)
                items.append(chunk[4 : 4 + length])
                chunk = chunk[4 + length :]
            found[output["name"]] = items
        else:
            found[output["name"]] = np.frombuffer(chunk, "<f4").reshape(output["shape"])
    assert raw == b""
    return found


def test_binary_tensors_round_trip(committed_client):
    body, headers = binary_body(SINE, parameters={"binary_data_output": True})
    response = committed_client.post("/v2/models/sine/infer", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    got = read_binary(response)
    as_json = outputs(infer(committed_client, "sine", {"inputs": [tensor(SINE)]}).json())
    np.testing.assert_array_equal(got["y"], as_json["y"])
    np.testing.assert_array_equal(got["drift_score"], as_json["drift_score"])
    assert [json.loads(w)["window"] for w in got["warnings"]] == [1]


def test_binary_per_output_and_json_mix(client):
    asked = [{"name": "y", "parameters": {"binary_data": True}}, {"name": "lower"}]
    body, headers = binary_body(SINE, outputs=asked)
    response = client.post("/v2/models/sine/infer", content=body, headers=headers)
    n = int(response.headers[HEADER])
    head = json.loads(response.content[:n])
    assert [o["name"] for o in head["outputs"]] == ["y", "lower"]
    assert "data" not in head["outputs"][0] and len(head["outputs"][1]["data"]) == 40
    assert len(response.content) - n == head["outputs"][0]["parameters"]["binary_data_size"] == 160


def test_a_json_body_without_content_type_is_read(client):
    body = json.dumps({"inputs": [tensor(SINE)]}).encode()  # as tritonclient sends JSON
    response = client.post("/v2/models/sine/infer", content=body, headers={"content-type": ""})
    assert response.status_code == 200, response.text


def test_versioned_infer_serves_only_the_loaded_version(client):
    version = client.get("/models/sine").json()["version"]
    assert infer(client, "sine", {"inputs": [tensor(SINE)]}, version).status_code == 200
    v2_error(infer(client, "sine", {"inputs": [tensor(SINE)]}, version + 1), 404, "no version")
    v2_error(infer(client, "sine", {"inputs": [tensor(SINE)]}, "latest"), 400, "whole number")
    v2_error(infer(client, "nope", {"inputs": [tensor(SINE)]}), 404, "model 'nope' not found")


def test_server_and_model_metadata(client):
    server = client.get("/v2").json()
    assert server["name"] == "lstm-service" and "binary_tensor_data" in server["extensions"]
    stock = client.get("/v2/models/stock").json()
    assert stock["inputs"] == [{"name": "window", "datatype": "FP32", "shape": [-1, 20, 5]}]
    assert [o["name"] for o in stock["outputs"]][-1] == "warnings"
    assert {"name": "lower", "datatype": "FP32", "shape": [-1, 1]} in stock["outputs"]
    version = stock["versions"][-1]
    assert client.get(f"/v2/models/stock/versions/{version}").json() == stock
    v2_error(client.get("/v2/models/stock/versions/999"), 404, "no version 999")
    v2_error(client.get("/v2/models/nope"), 404, "not found")


ONE = tensor(SINE[:1])


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "inputs: is required"),
        ({"inputs": []}, "inputs: must hold at least 1"),
        ({"inputs": [ONE, ONE]}, "one input 'window'"),
        ({"inputs": [{**ONE, "name": "x"}]}, "one input 'window' (got 'x')"),
        ({"inputs": [{**ONE, "datatype": "INT64"}]}, "inputs[0].datatype: must be FP32 or FP64"),
        ({"inputs": [{**ONE, "shape": [1, 10, 2]}]}, "window[0]: must hold exactly 20 values"),
        ({"inputs": [{**ONE, "shape": [2, 20, 1]}]}, "holds 20 values; shape [2, 20, 1] needs 40"),
        ({"inputs": [{**ONE, "shape": [1, -20, 1]}]}, "[1, -20, 1] has a negative dimension"),
        ({"inputs": [{**ONE, "shape": [1, 20.0, 1]}]}, "inputs[0].shape[1]: must be an integer"),
        ({"inputs": [{**ONE, "data": ["1"] * 20}]}, "inputs[0].data: must hold numbers only"),
        ({"inputs": [{**ONE, "data": [True] * 20}]}, "inputs[0].data: must hold numbers only"),
        ({"inputs": [{**ONE, "data": [None] * 20}]}, "inputs[0].data: must hold numbers only"),
        ({"inputs": [{**ONE, "data": [[1.0] * 20]}]}, "is nested as [1, 20], not [1, 20, 1]"),
        ({"inputs": [{**ONE, "data": [1e39] * 20}]}, "window[0][0].x: must be a finite float32"),
        ({"inputs": [{**ONE, "data": [10**400] * 20}]}, "inputs[0].data"),
        ({"inputs": [{k: v for k, v in ONE.items() if k != "data"}]}, "inputs[0].data: is req"),
        ({"inputs": [{**ONE, "parameters": {"binary_data_size": 80}}]}, "binary_data_size"),
        ({"inputs": [{**ONE, "extra": 1}]}, "inputs[0].extra: is not an allowed field"),
        ({"inputs": [ONE], "outputs": [{"name": "z"}]}, "outputs[0].name: 'z' is not an output"),
        ({"inputs": [ONE], "outputs": [{"name": "y", "parameters": {"classification": 2}}]},
         "parameters.classification: is not supported"),
        ({"inputs": [ONE], "parameters": {"binary_data_output": "yes"}}, "must be true or false"),
        ({"inputs": [ONE], "parameters": {"p": [1]}}, "parameters.p"),
        ({"inputs": [ONE], "id": 7}, "id: must be a string"),
    ],
)  # fmt: skip
def test_bad_input_is_the_protocols_400(client, body, fragment):
    v2_error(infer(client, "sine", body), 400, fragment)


def test_too_many_windows_is_a_400(client):
    many = np.repeat(SINE[:1], 257, axis=0)
    v2_error(infer(client, "sine", {"inputs": [tensor(many)]}), 400, "more than 256 windows")


@pytest.mark.parametrize(
    ("body", "headers", "fragment"),
    [
        (b'{"inputs": [', {}, "body: is not valid JSON"),
        (b'{"id": "a", "id": "b", "inputs": [%s]}' % json.dumps(ONE).encode(), {}, "duplicate"),
        (b"\xff{}", {}, "body: is not valid JSON"),
        (b'{"inputs": []}', {HEADER: "99"}, "byte count within the body"),
        (b'{"inputs": []}', {HEADER: "-1"}, "byte count within the body"),
        (b"[1, 2]", {}, "must be a JSON object"),
    ],
)
def test_unreadable_bodies_are_the_protocols_400(client, body, headers, fragment):
    response = client.post("/v2/models/sine/infer", content=body, headers=headers)
    v2_error(response, 400, fragment)


def test_binary_size_must_match_the_bytes_sent(client):
    body, headers = binary_body(SINE)
    cut = client.post("/v2/models/sine/infer", content=body[:-4], headers=headers)
    v2_error(cut, 400, "binary_data_size")
    extra = client.post("/v2/models/sine/infer", content=body + b"1234", headers=headers)
    v2_error(extra, 400, "binary_data_size")
