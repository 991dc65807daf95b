"""The bare variant answers in the shape of the service's responses, for any valid request."""

import pytest
from fastapi.testclient import TestClient

from bench.bare import app
from bench.bodies import ENDPOINTS, stock_rows
from bench.ceiling import app as ceiling_app
from service.api.kserve.schemas import V2InferResponse
from service.api.native.schemas import ClassifyResponse, SineResponse, StockResponse


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as client:
        yield client


def test_bare_stock_answers_one_prediction_and_interval_per_window(client):
    answer = StockResponse.model_validate(client.post("/predict/stock", json=stock_rows(22)).json())
    assert len(answer.predictions) == len(answer.intervals) == 3
    assert answer.next_close == answer.predictions[-1] and answer.warnings == []


def test_bare_sine_answers_nested_like_x(client):
    one = SineResponse.model_validate(
        client.post("/predict/sine", json=ENDPOINTS["/predict/sine"]).json()
    )
    assert len(one.y) == len(one.intervals) == 20
    x = [ENDPOINTS["/predict/sine"]["x"]] * 2
    two = SineResponse.model_validate(client.post("/predict/sine", json={"x": x}).json())
    assert [len(w) for w in two.y] == [len(w) for w in two.intervals] == [20, 20]


def test_bare_classify_answers_both_probabilities_per_x(client):
    body = client.post("/classify", json=ENDPOINTS["/classify"]).json()
    answer = ClassifyResponse.model_validate(body)
    assert len(answer.classes) == 20 and all(len(p) == 2 for p in answer.probabilities)


def test_bare_validates_with_the_service_request_models(client):
    assert client.post("/predict/stock", json={"rows": []}).status_code == 422
    assert client.post("/predict/sine", json={"x": ["a"]}).status_code == 422


def test_bare_v2_infer_answers_in_the_shape_of_the_shipped_route(client):
    path = "/v2/models/stock/infer"
    bare = client.post(path, json=ENDPOINTS[path]).json()
    with TestClient(ceiling_app) as shipped_client:  # the shipped routes, constant graphs
        shipped = shipped_client.post(path, json=ENDPOINTS[path]).json()
    V2InferResponse.model_validate(bare)

    def shape(answer: dict) -> list:
        return [(o["name"], o["datatype"], o["shape"], len(o["data"])) for o in answer["outputs"]]

    assert shape(bare) == shape(shipped) == [
        ("next_close", "FP32", [1, 1], 1), ("lower", "FP32", [1, 1], 1),
        ("upper", "FP32", [1, 1], 1), ("warnings", "BYTES", [0], 0),
    ]  # fmt: skip
    assert set(bare) == set(shipped)
    assert client.post(path, json={"inputs": []}).status_code == 422  # the service's model
