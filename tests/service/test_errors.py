"""The one error body everywhere, and bad input never reaching the generic 500 handler."""

import logging

import numpy as np
import pytest
from service.registry import LoadedModel, Registry, get_registry

from service.examples import SINE_X, STOCK_ROWS
from service.main import create_app
from service.settings import Settings
from tests.service.checks import assert_error
from tests.service.conftest import client_for

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("route", ["/predict/stock", "/predict/sine", "/classify"])
def test_empty_body(client, route):
    assert_error(client.post(route, content=b"", headers=JSON), 422, "body: is required")


@pytest.mark.parametrize("route", ["/predict/stock", "/predict/sine", "/classify"])
def test_truncated_json(client, route):
    response = client.post(route, content=b'{"x": [0.1, 0.2', headers=JSON)
    assert_error(response, 422, "body: is not valid JSON")


@pytest.mark.parametrize("body", [b"[]", b"null", b"3", b'"rows"'])
def test_body_not_an_object(client, body):
    assert_error(client.post("/predict/stock", content=body, headers=JSON), 422, "body")


def test_unknown_route_is_404(client):
    assert_error(client.get("/predict/nothing"), 404, "not found", "/predict/nothing")


def test_wrong_method_is_405(client):
    assert_error(client.get("/predict/stock"), 405, "method not allowed")


def test_validation_detail_locates_the_field(client):
    body = assert_error(client.post("/predict/sine", json={"x": [True]}), 422)
    assert body["detail"] == [{"loc": ["body", "x", 0], "msg": "must be a number"}]


def fixed_registry(output: np.ndarray) -> Registry:
    """A registry whose sine model answers `output` whatever it is asked."""
    meta = {"input": {"window": 20, "features": ["x"]}}
    return Registry({"sine": LoadedModel("sine", 7, meta, lambda batch: output)})


def test_registry_override_replaces_the_models(models_dir):
    client = client_for(models_dir)
    client.app.dependency_overrides[get_registry] = lambda: fixed_registry(np.ones((1, 20, 1)))
    with client:
        body = client.post("/predict/sine", json={"x": SINE_X}).json()
    expected = {"model": "sine", "version": 7, "y": [1.0] * 20, "intervals": None, "warnings": []}
    assert body == expected


def test_non_finite_model_output_is_422_not_nan(models_dir):
    client = client_for(models_dir)
    output = np.full((1, 20, 1), np.nan, dtype=np.float32)
    client.app.dependency_overrides[get_registry] = lambda: fixed_registry(output)
    with client:
        response = client.post("/predict/sine", json={"x": SINE_X})
    assert_error(response, 422, "outside what the model can handle")


def test_unexpected_error_is_bare_500_and_logged(models_dir, caplog):
    def broken(batch):
        raise RuntimeError("tensorflow exploded at /secret/path.py")

    meta = {"input": {"window": 20, "features": ["x"]}}
    registry = Registry({"sine": LoadedModel("sine", 1, meta, broken)})
    client = client_for(models_dir, raise_server_exceptions=False)
    client.app.dependency_overrides[get_registry] = lambda: registry
    with client, caplog.at_level(logging.ERROR, logger="service"):
        response = client.post("/predict/sine", json={"x": SINE_X})
    assert response.json() == {"error": "internal error", "detail": []}
    assert response.status_code == 500 and "secret" not in response.text
    assert "tensorflow exploded" in caplog.text


def test_routes_before_startup_answer_503():
    client = client_for(Settings().models_dir)  # lifespan never entered: nothing loaded
    response = client.post("/predict/stock", json={"rows": STOCK_ROWS})
    assert_error(response, 503, "not ready")


def test_app_import_loads_nothing():
    app = create_app(Settings(models_dir="/nonexistent"))  # must not raise: loading is lazy
    assert app.title
