"""Gates before parsing: body size (413), content type (415), strict JSON (422), request IDs."""

import json

import pytest
from fastapi.testclient import TestClient
from service.context import resolve
from service.registry import LoadedModel, Registry, get_registry

from service.api.gate import is_json
from service.examples import SINE_X, STOCK_ROWS
from service.main import create_app
from service.settings import Settings
from tests.service.checks import assert_error

JSON = {"content-type": "application/json"}
MIB = 1 << 20


def test_default_body_limit_is_one_mib():
    assert Settings().max_body_bytes == MIB


def test_50_mb_body_is_413_before_parsing(client):
    content = b'{"x": [' + b"0.5, " * (10 * MIB) + b"0.5]}"  # about 50 MB of valid JSON
    response = client.post("/predict/sine", content=content, headers=JSON)
    assert_error(response, 413, f"larger than the limit of {MIB} bytes")


def test_streamed_body_over_the_limit_is_413(client):
    def chunks():  # no Content-Length: the limit is counted on the bytes as they arrive
        yield b'{"x": ['
        for _ in range(40):
            yield b"0.5, " * 10_000

    response = client.post("/predict/sine", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "larger than the limit")


def test_body_at_the_limit_passes_the_gate(models_dir):
    body = json.dumps({"x": SINE_X}).encode()
    settings = Settings(models_dir=models_dir, max_body_bytes=len(body))
    with TestClient(create_app(settings)) as client:
        assert client.post("/predict/sine", content=body, headers=JSON).status_code == 200
        response = client.post("/predict/sine", content=body + b" ", headers=JSON)
        assert_error(response, 413, f"limit of {len(body)} bytes")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_non_json_content_type_is_415(client, content_type):
    body = json.dumps({"x": SINE_X})
    response = client.post("/predict/sine", content=body, headers={"content-type": content_type})
    assert_error(response, 415, "Content-Type: application/json")


def test_body_without_content_type_is_415(client):
    response = client.post("/predict/sine", content=json.dumps({"x": SINE_X}).encode())
    assert_error(response, 415, "must be JSON")


def test_json_with_charset_and_plus_json_are_accepted(client):
    body = json.dumps({"x": SINE_X})
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = client.post(
            "/predict/sine", content=body, headers={"content-type": content_type}
        )
        assert response.status_code == 200, response.text


def test_is_json():
    assert is_json("Application/JSON; charset=utf-8") and is_json("application/problem+json")
    assert not is_json("") and not is_json("text/json") and not is_json("application/jsonx")


def test_stock_rejects_duplicate_keys(client):
    row = json.dumps(STOCK_ROWS[0])
    content = '{"rows": [' + row[:-1] + ', "close": 1.0}' + "]}"  # close given twice
    response = client.post("/predict/stock", content=content, headers=JSON)
    assert_error(response, 422, "body: is not valid JSON", 'duplicate key "close"')


def test_sine_rejects_duplicate_top_level_key(client):
    content = '{"x": ' + json.dumps(SINE_X) + ', "x": [1.0]}'
    response = client.post("/predict/sine", content=content, headers=JSON)
    assert_error(response, 422, 'duplicate key "x"')


def test_stock_rejects_invalid_utf8(client):
    content = b'{"rows": [{"date": "2018-11-01\xff"}]}'
    response = client.post("/predict/stock", content=content, headers=JSON)
    assert_error(response, 422, "body: is not valid JSON", "invalid UTF-8 at byte 30")


def test_parse_json_keeps_the_last_error_position():
    with pytest.raises(Exception, match="at character 8"):
        parse_json(b'{"x": [1')


def test_request_id_is_generated_and_returned(client):
    first, second = (client.get("/health/live").headers["x-request-id"] for _ in range(2))
    assert len(first) == 32 and first != second


def test_request_id_from_the_client_is_echoed(client):
    response = client.post("/predict/sine", json={"x": []}, headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 422 and response.headers["x-request-id"] == "abc-123"


def test_request_id_on_gate_refusals(client):
    response = client.post("/predict/sine", content=b"x", headers={"X-Request-ID": "r.1"})
    assert response.status_code == 415 and response.headers["x-request-id"] == "r.1"


@pytest.mark.parametrize("given", ["", "a b", "x" * 129, "id\r\nSet-Cookie: a=b", "é"])
def test_unsafe_request_id_is_replaced(given):
    assert resolve(given) != given and len(resolve(given)) == 32


def test_request_id_on_unexpected_500(models_dir):
    def broken(batch):
        raise RuntimeError("boom")

    meta = {"input": {"window": 20, "features": ["x"]}}
    registry = Registry({"sine": LoadedModel("sine", 1, meta, broken)})
    client = TestClient(create_app(Settings(models_dir=models_dir)), raise_server_exceptions=False)
    client.app.dependency_overrides[get_registry] = lambda: registry
    with client:
        response = client.post(
            "/predict/sine", json={"x": SINE_X}, headers={"X-Request-ID": "r-500"}
        )
    assert response.status_code == 500 and response.headers["x-request-id"] == "r-500"
