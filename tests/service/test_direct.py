"""The hot routes the gate calls without FastAPI's routing answer exactly as through FastAPI."""

import json

import pytest

from service.api import direct
from service.api.native import predict
from tests.service.in_memory import client_with, constant
from tests.service.test_stock import make_rows

STOCK = {"rows": make_rows(21)}
CASES = [  # (path, body bytes, content type)
    ("/predict/stock", json.dumps(STOCK), "application/json"),
    ("/predict/sine", json.dumps({"x": [0.1 * i for i in range(20)]}), "application/json"),
    ("/classify", json.dumps({"x": [[0.1 * i for i in range(20)]] * 2}), "application/json"),
    ("/predict/stock", json.dumps({"rows": []}), "application/json"),  # 422, pydantic's rule
    ("/predict/stock", json.dumps({"rows": make_rows(3)}), "application/json"),  # 422, core's
    ("/predict/stock", '{"rows": [], "rows": []}', "application/json"),  # duplicate key
    ("/predict/sine", "{not json", "application/json"),
    ("/predict/sine", "", "application/json"),
    ("/predict/sine", '{"x": [' + ",".join(["0"] * 20_000) + "]}", "application/json"),  # bound
    ("/classify", '{"x": [1]}', "text/plain"),  # 415 from the gate, either way
]


def answers(client, method="POST"):
    found = []
    for path, body, ctype in CASES:
        response = client.request(method, path, content=body, headers={"Content-Type": ctype})
        headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
        found.append((response.status_code, headers, response.content))
    return found


@pytest.fixture(scope="module")
def both(models_dir):
    """The same answers with the direct calls on (the default) and off."""
    with client_with(models_dir, constant(1.5)) as fast:
        on = answers(fast)
        fast.get("/metrics")
        metrics = fast.get("/metrics").text
    saved = predict.DIRECT
    predict.DIRECT = {}
    try:
        with client_with(models_dir, constant(1.5)) as slow:
            off = answers(slow)
    finally:
        predict.DIRECT = saved
    return on, off, metrics


def test_every_case_answers_the_same_bytes_with_and_without_the_direct_call(both):
    on, off, _ = both
    statuses = [status for status, _, _ in on]
    assert statuses == [200, 200, 200, 422, 422, 422, 422, 422, 422, 415]
    for case, fast, slow in zip(CASES, on, off, strict=True):
        assert fast == slow, case[:1]


def test_direct_calls_still_count_under_their_route_template(both):
    _, _, metrics = both
    for path in ("/predict/stock", "/predict/sine", "/classify"):
        assert f'method="POST",route="{path}",status="200"' in metrics
    assert 'route="/predict/stock",status="422"' in metrics


def test_every_direct_route_is_declared_by_the_app_with_the_same_endpoint(client):
    app = client.app
    schema = app.openapi()["paths"]
    for (method, path), endpoint in predict.DIRECT.items():
        assert app.url_path_for(endpoint.__name__) == path
        assert method.lower() in schema[path]


def test_an_unexpected_error_is_the_gates_json_500_with_one_traceback(models_dir, caplog):
    def broken(spec):
        def serve(batch):
            raise RuntimeError("the graph broke")

        return serve

    with client_with(models_dir, broken, raise_server_exceptions=False) as client:
        response = client.post("/predict/stock", json=STOCK)
    assert response.status_code == 500 and response.json()["error"] == "internal error"
    assert caplog.text.count("Traceback") == 1 and "the graph broke" in caplog.text


def test_a_cors_request_goes_through_fastapi_and_gets_its_headers(models_dir):
    origin = "https://example.org"
    with client_with(models_dir, constant(1.5), cors_origins=origin) as client:
        response = client.post("/predict/stock", json=STOCK, headers={"Origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin


def test_calls_answers_errors_with_the_given_render():
    import asyncio

    from fastapi import Response

    async def endpoint(request):
        raise KeyError("x")

    def render(exc, method, path):
        return Response(f"{type(exc).__name__} {method} {path}".encode(), 418)

    sent = []
    scope = {"type": "http", "method": "POST", "path": "/p", "headers": [], "query_string": b""}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    call = direct.calls({("POST", "/p"): endpoint}, render)[("POST", "/p")]
    asyncio.run(call(scope, receive, send))
    assert sent[0]["status"] == 418 and sent[1]["body"] == b"KeyError POST /p"
    assert scope["route"].path == "/p"
