"""Startup with a missing or corrupt model directory: one clear log line naming path and reason."""

import logging

import pytest
from service.registry import NoModelsError, load_registry

from tests.service.fake_models import copy_models


def errors_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_missing_models_directory_is_logged_and_refuses(tmp_path, caplog):
    missing = tmp_path / "nowhere"
    with caplog.at_level(logging.ERROR, logger="service"), pytest.raises(NoModelsError):
        load_registry(missing)
    assert errors_of(caplog) == [
        f"models directory {missing}: does not exist or is not a directory"
    ]


def test_model_without_version_directory_is_logged(fake_models_dir, tmp_path, caplog):
    copy_models(fake_models_dir, tmp_path, ["sine"])
    (tmp_path / "stock" / "latest").mkdir(parents=True)  # not an integer version
    with caplog.at_level(logging.ERROR, logger="service"):
        registry = load_registry(tmp_path)
    assert list(registry.models) == ["sine"]
    (line,) = errors_of(caplog)
    assert line.startswith(f"model stock not loaded from {tmp_path / 'stock'}: ")
    assert "no integer version directory holding saved_model.pb and metadata.json" in line


def test_version_missing_saved_model_is_logged(fake_models_dir, tmp_path, caplog):
    copy_models(fake_models_dir, tmp_path, ["sine", "stock"])
    (tmp_path / "stock" / "1" / "saved_model.pb").unlink()
    with caplog.at_level(logging.ERROR, logger="service"):
        registry = load_registry(tmp_path)
    assert "stock" in registry.failed and "stock" not in registry.models
    assert any(str(tmp_path / "stock") in line for line in errors_of(caplog))


def test_corrupt_only_version_names_path_and_reason(fake_models_dir, tmp_path, caplog):
    copy_models(fake_models_dir, tmp_path, ["sine", "classify"])
    broken = tmp_path / "classify" / "1"
    (broken / "metadata.json").write_text("{not json")
    with caplog.at_level(logging.ERROR, logger="service"):
        registry = load_registry(tmp_path)
    lines = errors_of(caplog)
    assert f"skipping model directory {broken}: JSONDecodeError: " in lines[0]
    assert lines[1].startswith(f"model classify not loaded from {broken.parent}: version 1: ")
    assert "JSONDecodeError" in registry.failed["classify"]
