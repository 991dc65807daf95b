"""The Open Inference Protocol's REST routes through the clients teams already use: Triton's
`tritonclient.http` and KServe's `InferenceRESTClient`, against a real socket. Each answer
equals the native route's; a bad input is the protocol's 400, never a 500."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import kserve
import numpy as np
import pytest
import tritonclient.http as triton
from kserve.protocol.infer_type import RequestedOutput
from tritonclient.utils import InferenceServerException

from service.examples import CLASSIFY_X, SINE_X
from service.settings import Settings
from tests.service.live import served
from tests.service.test_drift import FAR_X
from tests.service.test_kserve_infer import CLASSIFY, LATER, SINE, STOCK, UNDATED

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


def kserve_call(coroutine_of):
    """Run one call of a fresh InferenceRESTClient (it is async; the tests are not)."""

    async def run():
        client = kserve.InferenceRESTClient(kserve.RESTConfig(protocol="v2"))
        try:
            return await coroutine_of(client)
        finally:
            await client.close()

    return asyncio.run(run())


def kserve_request(name: str, batch: np.ndarray, binary: bool, **kwargs) -> kserve.InferRequest:
    window = kserve.InferInput("window", list(batch.shape), "FP32")
    window.set_data_from_numpy(batch.astype(np.float32), binary_data=binary)
    return kserve.InferRequest(name, [window], **kwargs)


def test_kserve_client_health(url):
    assert kserve_call(lambda c: c.is_server_live(url))
    assert kserve_call(lambda c: c.is_server_ready(url))
    assert kserve_call(lambda c: c.is_model_ready(url, "stock"))


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("name", list(BATCHES))
def test_kserve_client_infer_equals_the_native_route(url, native, name, binary):
    request = kserve_request(name, BATCHES[name], binary, request_id=f"k-{name}")
    result = kserve_call(lambda c: c.infer(url, request, model_name=name))
    found = {o.name: o for o in result.outputs}
    np.testing.assert_allclose(found[PREDICTION[name]].as_numpy(), native[name], rtol=1e-6)
    assert found["warnings"].datatype == "BYTES"
    assert result.id == f"k-{name}"


def test_kserve_client_asks_for_one_output_in_binary(url, native):
    asked = [RequestedOutput("y", {"binary_data": True})]
    request = kserve_request("sine", SINE, True, request_outputs=asked)
    result = kserve_call(lambda c: c.infer(url, request, model_name="sine"))
    [y] = result.outputs
    np.testing.assert_allclose(y.as_numpy(), native["sine"], rtol=1e-6)


def test_kserve_client_warnings_are_the_native_ones(url):
    result = kserve_call(lambda c: c.infer(url, kserve_request("sine", SINE, False),
                                           model_name="sine"))  # fmt: skip
    [found] = [o for o in result.outputs if o.name == "warnings"]
    native = httpx.post(f"{url}/predict/sine", json={"x": [SINE_X, FAR_X]}).json()
    assert [json.loads(w) for w in found.data] == native["warnings"]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_kserve_client_bad_input_is_a_400(url, binary):
    bad = STOCK.copy()
    bad[0, 4, 4] = -3.0  # a negative volume
    request = kserve_request("stock", bad, binary)
    with pytest.raises(httpx.HTTPStatusError) as raised:
        kserve_call(lambda c: c.infer(url, request, model_name="stock"))
    assert raised.value.response.status_code == 400
    assert "window[0][4].volume: must be greater than or equal to 0" in str(raised.value)
