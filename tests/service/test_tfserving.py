"""TF Serving's REST API and KServe v2 health: requests as their clients send them."""

import json

import numpy as np
import pytest

from service.examples import CLASSIFY_X, SINE_X, STOCK_ROWS
from tests.service.test_drift import FAR_X, newest_metadata

# What TF Serving's REST tutorial sends: requests.post(url, data=json.dumps(...), headers=...)
HEADERS = {"content-type": "application/json"}
FEATURES = ["open", "high", "low", "close", "volume"]
ROWS = [[row[f] for f in FEATURES] for row in STOCK_ROWS]  # one window, metadata feature order
UNDATED = [{k: v for k, v in row.items() if k != "date"} for row in STOCK_ROWS]


def tf_predict(client, name: str, payload: dict, version: int | None = None):
    path = f"/v1/models/{name}" + (f"/versions/{version}" if version else "") + ":predict"
    return client.post(path, data=json.dumps(payload), headers=HEADERS)


def tf_error(response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"} and fragment in response.json()["error"]


def test_stock_predictions_equal_the_native_route(client):
    later = [list(r) for r in ROWS[1:]] + [[2740.0, 2750.0, 2730.0, 2745.0, 3.5e9]]
    payload = {"signature_name": "serving_default", "instances": [ROWS, later]}
    response = tf_predict(client, "stock", payload)
    assert response.status_code == 200, response.text
    extra = dict(zip(FEATURES, later[-1], strict=True))
    native = client.post("/predict/stock", json={"rows": [*UNDATED, extra]}).json()
    body = response.json()
    predicted = [p["next_close"][0] for p in body["predictions"]]  # every named output
    assert predicted == pytest.approx(native["predictions"], rel=1e-6)
    assert [p["lower"][0] for p in body["predictions"]] == pytest.approx(
        [i["lower"] for i in native["intervals"]], rel=1e-6
    )
    assert body["warnings"] == native["warnings"]


@pytest.mark.parametrize(
    ("name", "native_path", "key"), [("sine", "/predict/sine", "y"), ("classify", "/classify", "")]
)
def test_curve_predictions_equal_the_native_route(client, name, native_path, key):
    x = SINE_X if name == "sine" else CLASSIFY_X
    flat = tf_predict(client, name, {"instances": [x]}).json()["predictions"]
    column = tf_predict(client, name, {"instances": [[[v] for v in x]]}).json()["predictions"]
    native = client.post(native_path, json={"x": x}).json()
    expected = [[y] for y in native["y"]] if key else native["probabilities"]
    np.testing.assert_allclose(flat[0]["y" if key else "probabilities"], expected, rtol=1e-6)
    assert column == flat


def test_named_and_columnar_forms_give_the_same_numbers(client):
    rows = tf_predict(client, "sine", {"instances": [SINE_X, FAR_X]}).json()
    named = tf_predict(client, "sine", {"instances": [{"window": SINE_X}, {"window": FAR_X}]})
    columns = tf_predict(client, "sine", {"inputs": {"window": [SINE_X, FAR_X]}}).json()
    assert named.json()["predictions"] == rows["predictions"]
    by_instance = [{k: v[i] for k, v in columns["outputs"].items()} for i in range(2)]
    assert by_instance == rows["predictions"]
    assert "predictions" not in columns and "outputs" not in rows


def test_versioned_predict_serves_only_the_loaded_version(client):
    version = client.get("/models/sine").json()["version"]
    ok = tf_predict(client, "sine", {"instances": [SINE_X]}, version=version)
    assert ok.status_code == 200
    tf_error(tf_predict(client, "sine", {"instances": [SINE_X]}, version=version + 1), 404,
             f"Specific(sine, {version + 1})")  # fmt: skip


def test_far_window_warns_in_tf_serving_answers_too(committed_client):
    body = tf_predict(committed_client, "sine", {"instances": [SINE_X, FAR_X]}).json()
    assert [w["window"] for w in body["warnings"]] == [1]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"instances": [[*ROWS[:3], [1, 2, 1, -5, 9], *ROWS[4:]]]}, "instances[0][3].close"),
        ({"instances": [ROWS[:19]]}, "instances[0]: must hold exactly 20 rows (got 19)"),
        ({"instances": [[*ROWS[:19], [1, 2, 3]]]}, "instances[0][19]: must hold 5 values"),
        ({"instances": [[*ROWS[:19], [1, 2, 1, 1.5, "9"]]]}, "instances[0][19].volume"),
        ({"instances": [[*ROWS[:19], [1, 2, 1, 1.5, 1e39]]]}, "instances[0][19].volume"),
        ({"instances": [[*ROWS[:19], [1, 1, 2, 1.5, 9]]]}, "instances[0][19].low"),
        ({"instances": []}, "instances: must hold 1 to 256"),
        ({"instances": [ROWS], "inputs": [ROWS]}, "exactly one of"),
        ({}, "exactly one of"),
        ({"instances": [ROWS], "signature_name": "other"}, '"other" not found'),
        ({"inputs": {"rows": [ROWS]}}, "the one input 'window'"),
        ({"instances": [ROWS], "extra": 1}, "extra: is not an allowed field"),
    ],
)
def test_stock_invalid_argument_is_400(client, payload, fragment):
    tf_error(tf_predict(client, "stock", payload), 400, fragment)


@pytest.mark.parametrize(
    ("instance", "fragment"),
    [
        (SINE_X[:19], "instances[0]: must hold exactly 20 values (got 19)"),
        ([*SINE_X[:19], True], "instances[0][19]: must be a number"),
        ([*SINE_X[:19], None], "instances[0][19]"),
        ("x", "instances[0]: must be a list"),
    ],
)
def test_sine_invalid_argument_is_400(client, instance, fragment):
    tf_error(tf_predict(client, "sine", {"instances": [instance]}), 400, fragment)


def test_non_finite_and_broken_json_are_400(client):
    body = '{"instances": [[' + ", ".join(["NaN"] * 20) + "]]}"
    tf_error(client.post("/v1/models/sine:predict", content=body, headers=HEADERS), 400, "[0]")
    broken = client.post("/v1/models/sine:predict", content=b'{"instances": [', headers=HEADERS)
    tf_error(broken, 400, "not valid JSON")


def test_broken_bodies_get_tf_servings_error_shape(client):
    path = "/v1/models/sine:predict"
    invalid_utf8 = client.post(path, content=b'{"instances": [[0.1, \xff]]}', headers=HEADERS)
    tf_error(invalid_utf8, 400, "body: is not valid JSON")
    duplicate = client.post(path, content='{"instances": [[0.1]], "instances": 5}', headers=HEADERS)
    tf_error(duplicate, 400, 'duplicate key "instances"')
    nested = client.post(path, content='{"instances": ' + "[" * 5000 + "]" * 5000 + "}")
    tf_error(nested, 400, "recursion limit exceeded")


@pytest.mark.parametrize(
    "path", ["/v1/models/{}", "/v1/models/{}/versions/1", "/v2/models/{}/ready"]
)
def test_a_name_too_long_for_a_path_is_404(client, path):
    assert client.get(path.format("a" * 300)).status_code == 404


def test_unknown_model_is_404_everywhere(client):
    tf_error(tf_predict(client, "nope", {"instances": [SINE_X]}), 404, "Latest(nope)")
    tf_error(client.get("/v1/models/nope"), 404, "nope")
    tf_error(client.get("/v1/models/nope/metadata"), 404, "nope")


def test_absent_known_model_is_503(fake_models_dir, tmp_path):
    from tests.service.conftest import client_for
    from tests.service.fake_models import copy_models

    with client_for(copy_models(fake_models_dir, tmp_path, ["sine"])) as only_sine:
        # a model that is not on disk is unknown to TF Serving's API: 404, as TF Serving says
        tf_error(tf_predict(only_sine, "stock", {"instances": [ROWS]}), 404, "Latest(stock)")


def test_model_status_is_tf_servings(client):
    version = client.get("/models/stock").json()["version"]
    expected = {"version": str(version), "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""}}  # fmt: skip
    assert client.get("/v1/models/stock").json() == {"model_version_status": [expected]}
    one = client.get(f"/v1/models/stock/versions/{version}")
    assert one.json() == {"model_version_status": [expected]}
    tf_error(client.get(f"/v1/models/stock/versions/{version + 5}"), 404, "Could not find version")
    tf_error(client.get("/v1/models/stock/versions/abc"), 400, "version")


def test_model_metadata_describes_the_signature(client):
    body = client.get("/v1/models/stock/metadata").json()
    assert body["model_spec"]["name"] == "stock"
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    dims = [d["size"] for d in signature["inputs"]["window"]["tensor_shape"]["dim"]]
    assert dims == ["-1", "20", "5"] and signature["inputs"]["window"]["dtype"] == "DT_FLOAT"
    outputs = signature["outputs"]
    assert set(outputs) == {"next_close", "lower", "upper", "drift_value", "drift_score"}
    assert [d["size"] for d in outputs["next_close"]["tensor_shape"]["dim"]] == ["-1", "1"]


def test_status_after_a_newer_version_failed_to_load(fake_models_dir, tmp_path):
    from tests.service.conftest import client_for
    from tests.service.fake_models import copy_models

    models = copy_models(fake_models_dir, tmp_path, ["sine"])
    broken = models / "sine" / "2"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a graph")
    (broken / "metadata.json").write_text(json.dumps(newest_metadata("sine")))
    with client_for(models) as c:
        status = c.get("/v1/models/sine").json()["model_version_status"]
    assert [(s["version"], s["state"]) for s in status] == [("2", "END"), ("1", "AVAILABLE")]
    assert status[0]["status"]["error_code"] == "UNKNOWN"  # refused at startup, as at a reload
    assert status[0]["status"]["error_message"].startswith("version 2 rejected: ")


def test_kserve_health_and_readiness(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2/models/sine/ready").json() == {"name": "sine", "ready": True}
    version = client.get("/models/sine").json()["version"]
    assert client.get(f"/v2/models/sine/versions/{version}/ready").json()["ready"] is True
    assert client.get(f"/v2/models/sine/versions/{version + 9}/ready").status_code == 404
    assert client.get("/v2/models/nope/ready").status_code == 404


def test_kserve_model_metadata(client):
    body = client.get("/v2/models/stock").json()
    assert body["inputs"] == [{"name": "window", "datatype": "FP32", "shape": [-1, 20, 5]}]
    assert body["outputs"][0]["shape"] == [-1, 1]


def test_kserve_not_ready_when_a_model_failed(fake_models_dir, tmp_path):
    from tests.service.conftest import client_for
    from tests.service.fake_models import copy_models

    models = copy_models(fake_models_dir, tmp_path, ["sine", "stock"])
    for path in (models / "stock").rglob("saved_model.pb"):
        path.write_bytes(b"broken")
    with client_for(models) as c:
        ready = c.get("/v2/health/ready")
        stock = c.get("/v2/models/stock/ready")
        status = c.get("/v1/models/stock").json()["model_version_status"]
    assert ready.status_code == 503 and ready.json() == {"ready": False}
    assert stock.status_code == 503 and stock.json() == {"name": "stock", "ready": False}
    assert status[0]["state"] == "END" and status[0]["status"]["error_code"] == "UNKNOWN"


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "application/x-www-form-urlencoded"}],  # requests' data=, curl -d
    ids=["no-content-type", "curl-d"],
)
def test_predict_reads_json_whatever_the_content_type_as_tf_serving_does(client, headers):
    payload = json.dumps({"instances": [SINE_X]})
    response = client.post("/v1/models/sine:predict", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == tf_predict(client, "sine", {"instances": [SINE_X]}).json()


def test_native_routes_still_refuse_non_json(client):
    body = json.dumps({"x": SINE_X})
    response = client.post("/predict/sine", content=body, headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_kserve_health_probes_stay_open_with_an_api_key(fake_models_dir):
    from fastapi.testclient import TestClient

    from service.main import create_app
    from service.settings import Settings

    settings = Settings(models_dir=fake_models_dir, api_key="secret", reload_interval_s=0)
    with TestClient(create_app(settings)) as keyed:
        assert keyed.get("/v2/health/live").status_code == 200
        assert keyed.get("/v2/health/ready").status_code == 200
        assert keyed.get("/v1/models/sine").status_code == 401
