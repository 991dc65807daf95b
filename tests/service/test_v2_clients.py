"""The Open Inference Protocol's REST routes through the clients teams already use: Triton's
`tritonclient.http` and KServe's `InferenceRESTClient` (in a process of its own), against a
real socket. Each answer equals the native route's; a bad input is the protocol's 400, never a
500."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from service.examples import CLASSIFY_X, SINE_X
from service.settings import Settings
from tests.service.live import served
from tests.service.test_drift import FAR_X
from tests.service.test_kserve_infer import CLASSIFY, LATER, SINE, STOCK, UNDATED

ROOT = Path(__file__).resolve().parents[2]
BATCHES = {"stock": STOCK, "sine": SINE, "classify": CLASSIFY}
PREDICTION = {"stock": "next_close", "sine": "y", "classify": "probabilities"}


@pytest.fixture(scope="module")
def url(models_dir: Path) -> Iterator[str]:
    with served(Settings(models_dir=models_dir, log_level="WARNING")) as base:
        yield base


@pytest.fixture(scope="module")
def native(url: str) -> dict[str, np.ndarray]:
    """The native routes' predictions for BATCHES, in the signature's shape."""
    stock = httpx.post(f"{url}/predict/stock", json={"rows": [*UNDATED, LATER]}).json()
    sine = httpx.post(f"{url}/predict/sine", json={"x": [SINE_X, FAR_X]}).json()
    classify = httpx.post(f"{url}/classify", json={"x": [CLASSIFY_X]}).json()
    return {
        "stock": np.array(stock["predictions"])[:, np.newaxis],
        "sine": np.array(sine["y"])[..., np.newaxis],
        "classify": np.array(classify["probabilities"]),
    }


@pytest.fixture(scope="module")
def triton_client(url: str) -> Iterator[triton.InferenceServerClient]:
    client = triton.InferenceServerClient(url.removeprefix("http://"))
    yield client
    client.close()


def test_tritonclient_health_and_metadata(triton_client):
    assert triton_client.is_server_live() and triton_client.is_server_ready()
    assert triton_client.get_server_metadata()["name"] == "lstm-service"
    for name, batch in BATCHES.items():
        assert triton_client.is_model_ready(name)
        meta = triton_client.get_model_metadata(name)
        assert meta["inputs"][0]["shape"] == [-1, *batch.shape[1:]]
        assert PREDICTION[name] in [o["name"] for o in meta["outputs"]]
        assert triton_client.get_model_metadata(name, meta["versions"][-1]) == meta


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("name", list(BATCHES))
def test_tritonclient_infer_equals_the_native_route(triton_client, native, name, binary):
    batch = BATCHES[name].astype(np.float32)
    window = triton.InferInput("window", list(batch.shape), "FP32")
    window.set_data_from_numpy(batch, binary_data=binary)
    asked = [triton.InferRequestedOutput(n, binary_data=binary) for n in (PREDICTION[name],
             "drift_score", "warnings")]  # fmt: skip
    result = triton_client.infer(name, [window], outputs=asked, request_id=f"t-{name}")
    np.testing.assert_allclose(result.as_numpy(PREDICTION[name]), native[name], rtol=1e-6)
    assert result.as_numpy("drift_score").shape == (*batch.shape[:2], batch.shape[2])
    assert result.get_response()["id"] == f"t-{name}"


def test_tritonclient_default_request_gets_every_output_in_binary(triton_client, native):
    window = triton.InferInput("window", list(STOCK.shape), "FP32")
    window.set_data_from_numpy(STOCK.astype(np.float32))  # binary, and no outputs named
    result = triton_client.infer("stock", [window])
    names = [o["name"] for o in result.get_response()["outputs"]]
    assert names == ["next_close", "lower", "upper", "drift_value", "drift_score", "warnings"]
    np.testing.assert_allclose(result.as_numpy("next_close"), native["stock"], rtol=1e-6)
    assert (result.as_numpy("lower") <= result.as_numpy("upper")).all()


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_bad_input_is_a_400(triton_client, binary):
    bad = STOCK.astype(np.float32).copy()
    bad[1, 3, 2] = -1.0  # a negative low price
    window = triton.InferInput("window", list(bad.shape), "FP32")
    window.set_data_from_numpy(bad, binary_data=binary)
    with pytest.raises(InferenceServerException) as raised:
        triton_client.infer("stock", [window])
    assert raised.value.status() == "400"
    assert "window[1][3].low" in raised.value.message()


def test_tritonclient_unknown_model_and_wrong_shape(triton_client):
    window = triton.InferInput("window", [1, 20, 1], "FP32")
    window.set_data_from_numpy(SINE[:1].astype(np.float32))
    with pytest.raises(InferenceServerException) as unknown:
        triton_client.infer("nope", [window])
    assert unknown.value.status() == "404"
    with pytest.raises(InferenceServerException) as shape:
        triton_client.infer("stock", [window])  # a sine window sent to stock
    assert shape.value.status() == "400"


def kserve_calls(url: str, calls: list[dict]) -> list[dict]:
    """The calls made by KServe's client in its own process (tests/service/kserve_client.py
    says why), one result each."""
    given = json.dumps({"url": url, "calls": calls})
    done = subprocess.run([sys.executable, "-m", "tests.service.kserve_client"], input=given,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["results"]


def infer_call(name: str, batch: np.ndarray, binary: bool, **fields) -> dict:
    return {"op": "infer", "model": name, "batch": batch.tolist(), "binary": binary, **fields}


BAD_STOCK = STOCK.copy()
BAD_STOCK[0, 4, 4] = -3.0  # a negative volume
KSERVE_CALLS = {
    "live": {"op": "live"},
    "ready": {"op": "ready"},
    "model_ready": {"op": "model_ready", "model": "stock"},
    **{f"{name}-{kind}": infer_call(name, batch, kind == "binary", id=f"k-{name}-{kind}")
       for name, batch in BATCHES.items() for kind in ("binary", "json")},
    "one-binary-output": infer_call("sine", SINE, True, binary_outputs=["y"]),
    "bad-binary": infer_call("stock", BAD_STOCK, True),
    "bad-json": infer_call("stock", BAD_STOCK, False),
    "unknown-model": infer_call("nope", SINE, False),
}  # fmt: skip


@pytest.fixture(scope="module")
def kserve_results(url: str) -> dict[str, dict]:
    return dict(zip(KSERVE_CALLS, kserve_calls(url, list(KSERVE_CALLS.values())), strict=True))


def test_kserve_client_health(kserve_results):
    assert [kserve_results[k]["value"] for k in ("live", "ready", "model_ready")] == [True] * 3


@pytest.mark.parametrize("kind", ["binary", "json"])
@pytest.mark.parametrize("name", list(BATCHES))
def test_kserve_client_infer_equals_the_native_route(kserve_results, native, name, kind):
    result = kserve_results[f"{name}-{kind}"]
    found = result["outputs"]
    np.testing.assert_allclose(found[PREDICTION[name]]["data"], native[name], rtol=1e-6)
    assert found["warnings"]["datatype"] == "BYTES"
    assert result["id"] == f"k-{name}-{kind}" and result["model_name"] == name


def test_kserve_client_asks_for_one_output_in_binary(kserve_results, native):
    found = kserve_results["one-binary-output"]["outputs"]
    assert list(found) == ["y"]
    np.testing.assert_allclose(found["y"]["data"], native["sine"], rtol=1e-6)


def test_kserve_client_warnings_are_the_native_ones(kserve_results, url):
    found = kserve_results["sine-json"]["outputs"]["warnings"]["data"]
    native = httpx.post(f"{url}/predict/sine", json={"x": [SINE_X, FAR_X]}).json()
    assert [json.loads(w) for w in found] == native["warnings"]


@pytest.mark.parametrize("kind", ["binary", "json"])
def test_kserve_client_bad_input_is_a_400(kserve_results, kind):
    result = kserve_results[f"bad-{kind}"]
    assert result["status"] == 400
    assert "window[0][4].volume: must be greater than or equal to 0" in result["error"]


def test_kserve_client_unknown_model_is_a_404(kserve_results):
    assert kserve_results["unknown-model"]["status"] == 404
