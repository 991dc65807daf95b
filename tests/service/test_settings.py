"""Settings: environment variables, then a `.env` file, then the defaults."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    (tmp_path / ".env").write_text("LOG_FORMAT=text\nMODELS_DIR=/srv/models\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.log_format == "text" and str(settings.models_dir) == "/srv/models"


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("LOG_FORMAT=text\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert Settings().log_format == "json"


def test_log_format_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()


def test_root_path_is_a_setting_a_dotenv_file_can_hold(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from service.core.lifecycle import Lifecycle
    from service.main import create_app
    from service.server import Options, config

    monkeypatch.delenv("ROOT_PATH", raising=False)
    (tmp_path / ".env").write_text("ROOT_PATH=/lstm\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings(models_dir=Path(__file__).resolve().parents[2] / "models")
    assert settings.root_path == "/lstm"
    app = create_app(settings)
    assert config(app, settings, Lifecycle(), Options()).root_path == "/lstm"
    assert config(app, settings, Lifecycle(), Options(root_path="/x")).root_path == "/x"
    with TestClient(app) as client:  # a server that gives no root path (`uvicorn service.main:app`)
        assert client.get("/openapi.json").json()["servers"] == [{"url": "/lstm"}]
        assert client.get("/models").status_code == 200  # a proxy that strips the prefix
    with TestClient(app, root_path="/x") as client:  # the server's own (`--root-path /x`) wins
        assert client.get("/x/models").status_code == 200
        assert client.get("/x/openapi.json").json()["servers"] == [{"url": "/x"}]


@pytest.mark.parametrize("value", ["lstm", "/lstm/", "/"])
def test_root_path_must_start_with_a_slash_and_not_end_with_one(monkeypatch, value):
    monkeypatch.setenv("ROOT_PATH", value)
    with pytest.raises(ValidationError, match="root_path"):
        Settings()
