"""The one error body everywhere, and bad input never reaching the generic 500 handler."""

import logging

import numpy as np
import pytest

from service.core.registry import Registry
from service.examples import SINE_X, STOCK_ROWS
from service.main import create_app
from service.settings import Settings
from tests.service.checks import assert_error
from tests.service.conftest import client_for
from tests.service.in_memory import outputs, registry_of, spec_of, use

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


def fixed_registry(models_dir, value: float) -> Registry:
    """A registry whose sine model (version 7, no interval) predicts `value` for every x."""
    spec = spec_of(models_dir, "sine")
    return registry_of(models_dir, "sine", lambda batch: outputs(spec, batch, value), version=7)


def test_registry_override_replaces_the_models(fake_models_dir):
    client, registry = client_for(fake_models_dir), fixed_registry(fake_models_dir, 1.0)
    use(client.app, registry)
    with client:
        body = client.post("/predict/sine", json={"x": SINE_X}).json()
    registry.stop()
    expected = {"model": "sine", "version": 7, "y": [1.0] * 20, "intervals": None, "warnings": []}
    assert body == expected


def test_non_finite_model_output_is_422_not_nan(fake_models_dir):
    client, registry = client_for(fake_models_dir), fixed_registry(fake_models_dir, np.nan)
    use(client.app, registry)
    with client:
        response = client.post("/predict/sine", json={"x": SINE_X})
    registry.stop()
    assert_error(response, 422, "outside what the model can handle")


def broken(batch):
    raise RuntimeError("tensorflow exploded at /secret/path.py")


def test_unexpected_error_is_bare_500_and_logged(fake_models_dir, caplog):
    registry = registry_of(fake_models_dir, "sine", broken)
    client = client_for(fake_models_dir, raise_server_exceptions=False)
    use(client.app, registry)
    with client, caplog.at_level(logging.ERROR, logger="service"):
        response = client.post("/predict/sine", json={"x": SINE_X})
    registry.stop()
    assert response.json() == {"error": "internal error", "detail": []}
    assert response.status_code == 500 and "secret" not in response.text
    assert "tensorflow exploded" in caplog.text


def test_unexpected_500_logs_exactly_one_traceback(fake_models_dir, caplog):
    registry = registry_of(fake_models_dir, "sine", broken)
    client = client_for(fake_models_dir)  # raise_server_exceptions on: nothing escapes the app
    use(client.app, registry)
    with client:
        caplog.clear()
        with caplog.at_level(logging.DEBUG):  # every logger: ours, uvicorn's, Starlette's
            response = client.post("/predict/sine", json={"x": SINE_X})
    registry.stop()
    assert response.status_code == 500
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 1, [r.getMessage() for r in caplog.records]
    assert "RuntimeError: tensorflow exploded" in caplog.text
    assert caplog.text.count("Traceback (most recent call last)") == 1


@pytest.mark.parametrize(
    "path",
    ["/health/live", "/health/ready", "/models", "/models/sine", "/v1/models/sine",
     "/v1/models/sine/metadata", "/v2/health/ready"],
)  # fmt: skip
def test_head_answers_on_get_routes_without_a_body(fake_client, path):
    get, head = fake_client.get(path), fake_client.head(path)
    assert get.status_code == 200 and get.content
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_routes_before_startup_answer_503():
    client = client_for(Settings().models_dir)  # lifespan never entered: nothing loaded
    response = client.post("/predict/stock", json={"rows": STOCK_ROWS})
    assert_error(response, 503, "not ready")


def test_app_import_loads_nothing():
    app = create_app(Settings(models_dir="/nonexistent"))  # must not raise: loading is lazy
    assert app.title
