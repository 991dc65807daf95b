"""Settings: environment variables, then a `.env` file, then the defaults."""

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
