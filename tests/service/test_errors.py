"""The one error body everywhere, and bad input never reaching the generic 500 handler."""

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from service.api.errors import render
from service.core import errors as core_errors
from service.examples import SINE_X, STOCK_ROWS
from service.main import create_app
from service.protocols import errors as protocol_errors
from service.protocols import tfserving
from service.settings import Settings
from tests.service.checks import assert_error
from tests.service.conftest import client_for
from tests.service.in_memory import client_with, constant

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
    assert_error(client.get("/nothing/here"), 404, "not found", "/nothing/here")


def test_wrong_method_is_405(client):
    assert_error(client.get("/predict/stock"), 405, "method not allowed")


def test_validation_detail_locates_the_field(client):
    body = assert_error(client.post("/predict/sine", json={"x": [True]}), 422)
    assert body["detail"] == [{"loc": ["body", "x", 0], "msg": "must be a number"}]


@pytest.fixture(scope="module")
def sine_7(fake_models_dir, tmp_path_factory) -> Path:
    """A models directory whose one model is the fake sine (no interval) as version 7."""
    models = tmp_path_factory.mktemp("sine7")
    shutil.copytree(fake_models_dir / "sine" / "1", models / "sine" / "7")
    return models


def test_the_loader_seam_replaces_the_graphs(sine_7):
    with client_with(sine_7, constant(1.0)) as client:
        body = client.post("/predict/sine", json={"x": SINE_X}).json()
    expected = {"model": "sine", "version": 7, "y": [1.0] * 20, "intervals": None, "warnings": []}
    assert body == expected


def test_non_finite_model_output_is_422_not_nan(sine_7):
    with client_with(sine_7, constant(np.nan)) as client:
        response = client.post("/predict/sine", json={"x": SINE_X})
    assert_error(response, 422, "outside what the model can handle")


def broken(spec):
    def graph(batch):
        raise RuntimeError("tensorflow exploded at /secret/path.py")

    return graph


def test_unexpected_error_is_bare_500_and_logged(sine_7, caplog):
    client = client_with(sine_7, broken, raise_server_exceptions=False)
    with client, caplog.at_level(logging.ERROR, logger="service"):
        response = client.post("/predict/sine", json={"x": SINE_X})
    assert response.json() == {"error": "internal error", "detail": []}
    assert response.status_code == 500 and "secret" not in response.text
    assert "tensorflow exploded" in caplog.text


def test_unexpected_500_logs_exactly_one_traceback(sine_7, caplog):
    with client_with(sine_7, broken) as client:  # raising server exceptions: none escapes
        caplog.clear()
        with caplog.at_level(logging.DEBUG):  # every logger: ours, uvicorn's, Starlette's
            response = client.post("/predict/sine", json={"x": SINE_X})
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


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_kind_is_in_the_one_table():
    classes = list(_subclasses(core_errors.ServiceError))
    assert len(classes) >= 9  # core's, the protocols' and TF Serving's are all loaded
    found = {cls.__name__: cls.code for cls in classes if cls.code not in protocol_errors.KINDS}
    assert found == {}
    assert not [cls.__name__ for cls in classes if "status" in vars(cls)]  # the table's alone


@pytest.mark.parametrize(
    "exc",
    [
        core_errors.InputError(("x",), "must be positive"),
        core_errors.ModelNotFound("stock"),
        core_errors.VersionNotFound("stock", 9),
        core_errors.ModelUnavailable("stock"),
        core_errors.NotReady(),
        core_errors.Overloaded("stock"),
        core_errors.Unauthenticated("no key"),
        protocol_errors.BadRequest("a protocol rule"),
        protocol_errors.Unimplemented("no such method"),
        tfserving.ServableNotFound("no servable"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_the_native_answer_to_each_error_is_the_tables(exc):
    assert render(exc).status_code == protocol_errors.kind_of(exc).native
