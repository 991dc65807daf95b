"""The hot routes the gate calls without FastAPI's routing answer exactly as through FastAPI;
the table of them is read off the app's own routes."""

import asyncio
import json

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from service.api import direct
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
    ("/v2/models/sine/infer", json.dumps({"inputs": [{"name": "window", "shape": [1, 20],
     "datatype": "FP32", "data": [0.1 * i for i in range(20)]}]}), "application/json"),
    ("/v2/models/sine/versions/1/infer", json.dumps({"inputs": [{"name": "window",
     "shape": [1, 20], "datatype": "FP32", "data": [0.0] * 20}]}), "application/json"),
    ("/v2/models/sine/versions/7/infer", "{}", "application/json"),  # 404: not served
    ("/v2/models/sine/versions/x/infer", "{}", "application/json"),  # 400: not a version
    ("/v2/models/nope/infer", "{}", "application/json"),  # 404: no such model
    ("/v2/models/sine/infer", '{"inputs": []}', "application/json"),  # 400
    ("/v2/models/sine/infer/more", "{}", "application/json"),  # 404 from the router
    ("/v1/models/sine:predict", json.dumps({"instances": [[0.1 * i for i in range(20)]]}),
     "application/json"),
    ("/v1/models/nope:predict", "{}", "application/json"),  # 404, TF Serving's body
    ("/models/sine/evaluate", "{}", "application/json"),
    ("/models/nope/evaluate", "{}", "application/json"),
]  # fmt: skip
HOT = {("POST", "/predict/stock"), ("POST", "/predict/sine"), ("POST", "/classify"),
       ("POST", "/v2/models/{name}/infer"),
       ("POST", "/v2/models/{name}/versions/{version}/infer")}  # fmt: skip


def answers(client, method="POST"):
    found = []
    for path, body, ctype in CASES:
        headers = {"Content-Type": ctype, "X-Request-ID": "same-id"}  # the v2 answer echoes it
        response = client.request(method, path, content=body, headers=headers)
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
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(direct.Table, "of", classmethod(lambda cls, app: cls()))
        with client_with(models_dir, constant(1.5)) as slow:
            off = answers(slow)
    return on, off, metrics


def test_every_case_answers_the_same_bytes_with_and_without_the_direct_call(both):
    on, off, _ = both
    statuses = [status for status, _, _ in on]
    assert statuses[:17] == [200, 200, 200, 422, 422, 422, 422, 422, 422, 415,
                             200, 200, 404, 400, 404, 400, 404]  # fmt: skip
    assert statuses[17:19] == [200, 404]
    for case, fast, slow in zip(CASES, on, off, strict=True):
        assert fast == slow, case[:1]


def test_direct_calls_still_count_under_their_route_template(both):
    _, _, metrics = both
    for path in ("/predict/stock", "/predict/sine", "/classify"):
        assert f'method="POST",route="{path}",status="200"' in metrics
    assert 'route="/predict/stock",status="422"' in metrics


def test_the_hot_routes_are_read_off_the_apps_routes(client):
    table = direct.Table.of(client.app)
    assert table.routes >= HOT
    served = {(m, r.path) for r, _ in direct.routes(client.app) for m in r.methods or ()}
    assert table.routes <= served  # each one as the app serves it


def test_a_route_fastapi_would_do_more_for_is_not_called_directly():
    app = FastAPI()

    @app.get("/query")
    async def query(request: Request, q: str) -> Response:  # a query parameter to read
        return Response(q)

    @app.get("/typed/{n}")
    async def typed(request: Request, n: int) -> Response:  # a path parameter to convert
        return Response(str(n))

    @app.get("/dict")
    async def returns_dict(request: Request) -> dict:  # an answer to serialize
        return {}

    @app.post("/{name}")  # declared first: it takes /plain's requests
    async def catch_all(request: Request, name: str) -> Response:
        return Response(name)

    @app.post("/plain")
    async def plain(request: Request) -> Response:
        return Response(b"")

    assert direct.Table.of(app).routes == {("POST", "/{name}")}


def test_behind_a_root_path_the_hot_routes_answer_directly_and_auth_holds(models_dir):
    """As uvicorn serves with --root-path /lstm: the path holds the prefix, root_path names it."""
    found = []
    original = direct.Table.find

    def spy(table, method, path):
        result = original(table, method, path)
        found.append((path, result is not None))
        return result

    app = client_with(models_dir, constant(1.5), api_key="k").app
    with pytest.MonkeyPatch.context() as patch, TestClient(app, root_path="/lstm") as client:
        patch.setattr(direct.Table, "find", spy)
        key = {"Authorization": "Bearer k"}
        assert client.post("/lstm/predict/stock", json=STOCK, headers=key).status_code == 200
        assert client.post("/lstm/predict/stock", json=STOCK).status_code == 401
        assert client.get("/lstm/health/live").status_code == 200  # probes need no key
        assert client.get("/lstm/models", headers=key).status_code == 200
    assert found[0] == ("/predict/stock", True)


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


def test_the_table_matches_templates_by_segment_and_fixed_paths_exactly():
    async def endpoint(request, **params):
        return params

    table = direct.Table()
    for path in ("/a", "/m/{name}:go", "/v/{name}/x/{version}"):
        table.add("POST", direct.Route(path, endpoint), None)
    assert table.find("POST", "/a")[1] == {} and table.find("GET", "/a") is None
    assert table.find("POST", "/m/sine:go")[1] == {"name": "sine"}
    assert table.find("POST", "/v/s/x/3")[1] == {"name": "s", "version": "3"}
    for miss in ("/a/", "/m/a/b:go", "/m/:go", "/v/s/x/3/4", "/v/s/x/"):
        assert table.find("POST", miss) is None, miss


def test_calls_answers_errors_with_the_given_render():
    async def endpoint(request, **params):
        raise KeyError("x")

    async def render(exc, request):
        return Response(f"{type(exc).__name__} {request.method} {request.url.path}".encode(), 418)

    sent = []
    scope = {"type": "http", "method": "POST", "path": "/p", "headers": [], "query_string": b""}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    table = direct.Table().add("POST", direct.Route("/p", endpoint), render)
    call, params = table.find("POST", "/p")
    asyncio.run(call(scope, receive, send, params))
    assert sent[0]["status"] == 418 and sent[1]["body"] == b"KeyError POST /p"
    assert scope["route"].path == "/p"
