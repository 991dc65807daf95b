"""Gates before parsing: body size (413), content type (415), strict JSON (422), request IDs."""

import asyncio
import json
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.api.body import parse
from service.api.gate import Gate, GateSettings, is_json
from service.api.native.schemas import SineRequest
from service.examples import SINE_X, STOCK_ROWS
from service.main import create_app
from service.settings import Settings
from tests.service.checks import assert_error
from tests.service.in_memory import client_with

JSON = {"content-type": "application/json"}
MIB = 1 << 20
GENERATED_ID = re.compile(r"[0-9a-f]{20}")  # the process's random prefix and a counter


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
    assert is_json(b"Application/JSON; charset=utf-8") and is_json(b"application/problem+json")
    assert is_json(b"text/json") and is_json(b"TEXT/JSON; charset=utf-8")
    assert not is_json(b"") and not is_json(b"text/plain") and not is_json(b"application/jsonx")


def test_text_json_is_accepted_by_native_routes(client):
    headers = {"content-type": "text/json"}
    for route, body in [("/predict/sine", {"x": SINE_X}), ("/classify", {"x": SINE_X}),
                        ("/predict/stock", {"rows": STOCK_ROWS})]:  # fmt: skip
        response = client.post(route, content=json.dumps(body), headers=headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("content_type", ["text/json", "application/json", "text/plain", None])
def test_tf_serving_routes_read_any_content_type_as_json(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    content = json.dumps({"instances": [SINE_X]})
    response = client.post("/v1/models/sine:predict", content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 1


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
    assert_error(
        response, 422, "body: is not valid JSON", "invalid unicode code point", "column 31"
    )


def test_json_syntax_error_names_its_position():
    with pytest.raises(ValidationError, match="EOF while parsing a list at line 1 column 8"):
        parse(SineRequest, b'{"x": [1')


BIG = "1" * 5000  # past Python's 4300-digit limit on int(); parsed in Rust, refused there
JSON_ROUTES = [
    ("/predict/sine", '{"x": [%s]}'),
    ("/classify", '{"x": [[%s]]}'),
    ("/predict/stock", '{"rows": [{"open": %s, "high": 1, "low": 1, "close": 1, "volume": 1}]}'),
    ("/v1/models/sine:predict", '{"instances": [[%s]]}'),
    ("/v1/models/sine:predict", '{"inputs": {"window": [[%s]]}}'),
    ("/v1/models/stock/versions/1:predict", '{"instances": [[[1, 1, 1, %s, 1]]]}'),
    ("/v1/models/sine:predict", '{"instances": [[1]], "signature_name": %s}'),
]


@pytest.mark.parametrize(("route", "template"), JSON_ROUTES)
@pytest.mark.parametrize("literal", [BIG, "-" + BIG, BIG + ".5", BIG + "e2"])
def test_5000_digit_number_is_a_4xx_on_every_json_route(client, route, template, literal):
    for content in (template % literal, literal, f'{{"unknown": {literal}}}'):
        response = client.post(route, content=content, headers=JSON)
        assert 400 <= response.status_code < 500, (content[:40], response.text)
        assert len(response.content) < 1000 and BIG not in response.text


@pytest.mark.parametrize("escape", [r"\ud800", r"\udc00", r"a\ud83dz", r"\udfff\ud800"])
def test_lone_surrogate_in_signature_name_is_a_4xx(client, escape):
    content = '{"signature_name": "' + escape + '", "instances": [[0.5]]}'
    response = client.post("/v1/models/sine:predict", content=content, headers=JSON)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error"} and "not valid JSON" in response.json()["error"]


def test_long_unknown_field_name_is_echoed_only_as_a_short_prefix(client):
    name = "k" * 500_000  # 500 KB of field name: the answer repeats at most 64 characters of it
    for route, body in [("/predict/sine", {"x": SINE_X}), ("/predict/stock", {"rows": STOCK_ROWS})]:
        response = client.post(route, content=json.dumps({**body, name: 1}), headers=JSON)
        assert_error(response, 422, "is not an allowed field")
        assert len(response.content) < 1000 and "k" * 65 not in response.text
    response = client.post("/v1/models/sine:predict", headers=JSON,
                           content=json.dumps({"instances": [SINE_X], name: 1}))  # fmt: skip
    assert response.status_code == 400 and len(response.content) < 1000
    assert "k" * 65 not in response.text


def test_request_id_is_generated_and_returned(client):
    first, second = (client.get("/health/live").headers["x-request-id"] for _ in range(2))
    assert GENERATED_ID.fullmatch(first) and first != second


def test_request_id_from_the_client_is_echoed(client):
    response = client.post("/predict/sine", json={"x": []}, headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 422 and response.headers["x-request-id"] == "abc-123"


def test_request_id_on_gate_refusals(client):
    response = client.post("/predict/sine", content=b"x", headers={"X-Request-ID": "r.1"})
    assert response.status_code == 415 and response.headers["x-request-id"] == "r.1"


def request_id_answered(given: bytes) -> bytes:
    """The X-Request-ID the gate answers when a request sends `given` as raw header bytes."""
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(b"x-request-id", given)]
    scope = {"type": "http", "method": "GET", "path": "/health/live", "headers": headers}
    asyncio.run(Gate(app, GateSettings())(scope, receive, send))
    return dict(sent[0]["headers"])[b"x-request-id"]


@pytest.mark.parametrize(
    "given", [b"", b"a b", b"x" * 129, b"id\r\nSet-Cookie: a=b", "é".encode(), b"\xff"]
)
def test_unsafe_request_id_is_replaced(given):
    answered = request_id_answered(given)
    assert answered != given and GENERATED_ID.fullmatch(answered.decode())


def test_safe_request_id_is_kept():
    assert request_id_answered(b"A-z.0:9_" + b"x" * 120) == b"A-z.0:9_" + b"x" * 120


def test_request_id_on_unexpected_500(fake_models_dir):
    def broken(spec):
        def graph(batch):
            raise RuntimeError("boom")

        return graph

    with client_with(fake_models_dir, broken) as client:
        response = client.post(
            "/predict/sine", json={"x": SINE_X}, headers={"X-Request-ID": "r-500"}
        )
    assert response.status_code == 500 and response.headers["x-request-id"] == "r-500"
