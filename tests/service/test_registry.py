"""Model discovery and loading: newest version, broken directories, absent models, no models."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from service.core.inputs import MAX_WINDOWS
from service.core.repository import Repository
from service.examples import SINE_X, STOCK_ROWS
from service.main import build_registry
from service.settings import Settings
from tests.service.checks import assert_error
from tests.service.conftest import client_for
from tests.service.fake_models import copy_models, write_fake_model


def load_registry(models_dir: Path):
    return build_registry(Settings(models_dir=models_dir))


def test_versions_newest_first_and_complete_only(tmp_path):
    for version in ("1", "2", "10", "0", "latest", "3", "01", "\u00b2", "\u0663"):
        (tmp_path / "m" / version).mkdir(parents=True)
        if version != "3":
            (tmp_path / "m" / version / "saved_model.pb").touch()
            (tmp_path / "m" / version / "metadata.json").touch()
    assert Repository(tmp_path).listing() == {"m": [10, 2, 1]}


def test_registry_serves_newest_version(fake_models_dir, tmp_path):
    copy_models(fake_models_dir, tmp_path, ["sine"])
    write_fake_model(tmp_path, "sine", version=2)
    assert load_registry(tmp_path).model("sine").version == 2


def test_corrupt_newest_version_is_logged_and_skipped(fake_models_dir, tmp_path, caplog):
    copy_models(fake_models_dir, tmp_path, ["sine"])
    broken = tmp_path / "sine" / "2"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a protobuf")
    (broken / "metadata.json").write_text(json.dumps({"input": {"window": 20, "features": ["x"]}}))
    with caplog.at_level(logging.ERROR, logger="service"):
        registry = load_registry(tmp_path)
    assert registry.model("sine").version == 1
    assert "model sine version 2 not loaded" in caplog.text


def test_model_without_loadable_version_is_listed_as_failed(fake_models_dir, tmp_path):
    copy_models(fake_models_dir, tmp_path, ["sine"])
    (tmp_path / "stock" / "1").mkdir(parents=True)
    (tmp_path / "stock" / "1" / "metadata.json").write_text("{}")
    registry = load_registry(tmp_path)
    assert list(registry.models) == ["sine"] and list(registry.failed) == ["stock"]


def test_no_models_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match=str(tmp_path)), client_for(tmp_path):
        pass


def test_uvicorn_exits_non_zero_without_models(tmp_path):
    command = [sys.executable, "-m", "uvicorn", "service.main:app", "--port", "0"]
    env = {"MODELS_DIR": str(tmp_path), "PATH": ""}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"no loadable model under {tmp_path}" in done.stderr


@pytest.fixture(scope="module")
def sine_only_client(fake_models_dir, tmp_path_factory):
    with client_for(copy_models(fake_models_dir, tmp_path_factory.mktemp("m"), ["sine"])) as c:
        yield c


@pytest.mark.parametrize(
    ("route", "name", "body"),
    [("/predict/stock", "stock", {"rows": STOCK_ROWS}), ("/classify", "classify", {"x": SINE_X})],
)
def test_absent_model_is_503_naming_it(sine_only_client, route, name, body):
    assert_error(sine_only_client.post(route, json=body), 503, f"model '{name}' is not available")


def test_present_model_still_answers_when_others_absent(sine_only_client):
    response = sine_only_client.post("/predict/sine", json={"x": [[0.5] * 20] * MAX_WINDOWS})
    assert response.status_code == 200


def test_absent_known_model_metadata_is_503(sine_only_client):
    assert_error(sine_only_client.get("/models/stock"), 503, "stock")


def test_ready_lists_only_loaded_models(sine_only_client):
    assert sine_only_client.get("/health/ready").json()["models"] == {"sine": 1}


def test_models_dir_is_read_from_environment(monkeypatch, tmp_path):
    from service.settings import Settings

    monkeypatch.setenv("MODELS_DIR", str(tmp_path))
    assert Settings().models_dir == Path(tmp_path)
