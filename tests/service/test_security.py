"""Optional API key (Bearer, constant time), open health routes, CORS closed unless configured."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.gate import _authorized as authorized
from service.examples import SINE_X
from service.main import create_app
from service.settings import Settings
from tests.service.checks import assert_error
from tests.service.fake_models import copy_models

KEY = "s3cret-key"


def app_client(models_dir: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(models_dir=models_dir, reload_interval_s=0, **settings)))


@pytest.fixture(scope="module")
def sine_dir(fake_models_dir, tmp_path_factory) -> Path:
    return copy_models(fake_models_dir, tmp_path_factory.mktemp("sec"), ["sine"])


@pytest.fixture(scope="module")
def keyed(sine_dir) -> Iterator[TestClient]:
    with app_client(sine_dir, api_key=KEY) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_prediction_needs_the_key(keyed):
    response = keyed.post("/predict/sine", json={"x": SINE_X})
    assert_error(response, 401, "API key")
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["x-request-id"]


def test_prediction_with_the_key_answers(keyed):
    assert keyed.post("/predict/sine", json={"x": SINE_X}, headers=bearer(KEY)).status_code == 200


@pytest.mark.parametrize(
    "header", [f"Bearer {KEY}x", "Bearer ", f"Basic {KEY}", KEY, f"Bearer {KEY[:-1]}"]
)
def test_wrong_key_is_401(keyed, header):
    response = keyed.post("/predict/sine", json={"x": SINE_X}, headers={"Authorization": header})
    assert_error(response, 401)


@pytest.mark.parametrize("path", ["/models", "/models/sine", "/openapi.json", "/docs"])
def test_model_and_doc_routes_need_the_key(keyed, path):
    assert keyed.get(path).status_code == 401
    assert keyed.get(path, headers=bearer(KEY)).status_code == 200


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_health_routes_stay_open(keyed, path):
    assert keyed.get(path).status_code == 200


def test_unauthenticated_big_body_is_401_not_read(keyed):
    response = keyed.post(
        "/predict/sine", content=b"x" * (2 << 20), headers={"content-type": "application/json"}
    )
    assert_error(response, 401)


def test_key_from_file(sine_dir, tmp_path):
    (tmp_path / "key").write_text(f"{KEY}\n")  # trailing newline of `echo` / secrets ignored
    with app_client(sine_dir, api_key_file=tmp_path / "key") as client:
        assert client.post("/predict/sine", json={"x": SINE_X}).status_code == 401
        response = client.post("/predict/sine", json={"x": SINE_X}, headers=bearer(KEY))
        assert response.status_code == 200


def test_empty_key_file_refuses_to_start(sine_dir, tmp_path):
    (tmp_path / "key").write_text("\n")
    with pytest.raises(ValueError, match="empty"):  # when the app is built, before any model loads
        create_app(Settings(models_dir=sine_dir, api_key_file=tmp_path / "key"))


def test_missing_key_file_refuses_to_start(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):  # no models needed to find out
        create_app(Settings(models_dir=tmp_path / "no-models", api_key_file=tmp_path / "nowhere"))


def test_several_authorization_headers_are_400(keyed):
    for first, second in [(KEY, KEY), ("wrong", KEY), (KEY, "wrong")]:
        headers = [("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")]
        response = keyed.post("/predict/sine", json={"x": SINE_X}, headers=headers)
        assert_error(response, 400, "one Authorization header")
    response = keyed.get("/models", headers=[("Authorization", f"Bearer {KEY}")] * 2)
    assert_error(response, 400, "one Authorization header")


def test_without_a_key_everything_is_open(fake_client):
    assert fake_client.post("/predict/sine", json={"x": SINE_X}).status_code == 200
    assert fake_client.get("/models").status_code == 200


def test_authorized_compares_scheme_case_insensitively():
    assert authorized(b"bearer k", b"k") and authorized(b"Bearer  k", b"k")
    assert not authorized(None, b"k") and not authorized(b"Bearer", b"k")


def test_cors_closed_by_default(fake_client):
    origin = {"Origin": "https://evil.example"}
    response = fake_client.get("/health/live", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    preflight = fake_client.options(
        "/predict/sine", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_only_configured_origins(sine_dir):
    with app_client(sine_dir, cors_origins="https://app.example, https://b.example") as client:
        ok = client.get("/health/live", headers={"Origin": "https://b.example"})
        assert ok.headers["access-control-allow-origin"] == "https://b.example"
        other = client.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_preflight_passes_without_the_key(sine_dir):
    with app_client(sine_dir, api_key=KEY, cors_origins="https://app.example") as client:
        headers = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "authorization"}  # fmt: skip
        response = client.options("/predict/sine", headers=headers)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"
