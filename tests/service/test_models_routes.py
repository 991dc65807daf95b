"""GET routes: liveness, readiness, model listing and metadata, OpenAPI docs and examples."""

import pytest

from service.core.inputs import MAX_WINDOWS
from tests.service.checks import assert_error


def test_live(client):
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "alive"}


def test_ready_when_all_models_loaded(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True and set(body["models"]) == {"stock", "sine", "classify"}
    assert body["failed"] == []


def test_models_lists_card_fields(client):
    models = {m["name"]: m for m in client.get("/models").json()["models"]}
    assert set(models) == {"stock", "sine", "classify"}
    stock = models["stock"]
    assert stock["window"] == 20 and stock["version"] >= 1 and stock["task"] == "regression"
    assert {"open", "high", "low", "close", "volume"} <= set(stock["features"])
    assert isinstance(stock["metrics"], dict) and stock["metrics"]


def test_model_metadata_is_the_full_file(client):
    meta = client.get("/models/classify").json()
    assert meta["input"]["window"] == 20 and "metrics" in meta and "libraries" in meta


def test_unknown_model_is_404(client):
    assert_error(client.get("/models/nope"), 404, "model 'nope' not found")


def test_docs_page(client):
    assert client.get("/docs").status_code == 200


def openapi_example(openapi: dict, path: str) -> dict:
    ref = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = openapi["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
    return schema["examples"][0]


@pytest.mark.parametrize("path", ["/predict/stock", "/predict/sine", "/classify"])
def test_openapi_examples_work_as_they_are(client, path):
    example = openapi_example(client.get("/openapi.json").json(), path)
    assert client.post(path, json=example).status_code == 200


def test_stock_example_is_one_real_window(client):
    rows = openapi_example(client.get("/openapi.json").json(), "/predict/stock")["rows"]
    assert len(rows) == 20 and all(1000 < r["close"] < 5000 for r in rows)
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)


def test_openapi_documents_limits(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    row = schemas["StockRow"]
    assert row["properties"]["close"]["exclusiveMinimum"] == 0
    assert row["properties"]["volume"]["minimum"] == 0
    assert row["additionalProperties"] is False
    nested = schemas["SineRequest"]["properties"]["x"]["oneOf"][1]
    assert nested["maxItems"] == MAX_WINDOWS
