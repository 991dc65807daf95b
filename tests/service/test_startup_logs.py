"""Startup with a missing or corrupt model directory: one clear log line naming path and reason."""

import logging

import pytest

from service.main import build_registry
from service.settings import Settings
from tests.service.fake_models import copy_models


def load_registry(models_dir):
    return build_registry(Settings(models_dir=models_dir))


def errors_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("make", "reason"), [(None, "No such file or directory"),
                                               ("file", "Not a directory")])  # fmt: skip
def test_missing_models_directory_is_logged_and_refuses(tmp_path, caplog, make, reason):
    missing = tmp_path / "nowhere"
    if make == "file":
        missing.write_text("")
    with (
        caplog.at_level(logging.ERROR, logger="service"),
        pytest.raises(RuntimeError, match=f"no loadable model under {missing}"),
    ):
        load_registry(missing)
    assert errors_of(caplog) == [f"models directory {missing}: {reason}"]


def test_model_without_version_directory_is_logged(fake_models_dir, tmp_path, caplog):
    copy_models(fake_models_dir, tmp_path, ["sine"])
    (tmp_path / "stock" / "latest").mkdir(parents=True)  # not an integer version
    with caplog.at_level(logging.WARNING, logger="service"):
        registry = load_registry(tmp_path)
    assert list(registry.models) == ["sine"] and list(registry.failed) == ["stock"]
    (line,) = errors_of(caplog)
    assert line.startswith(f"model stock not loaded from {tmp_path / 'stock'}: ")
    assert "no version directory (ASCII digits) holding saved_model.pb and metadata.json" in line
    skipped = f"skipping {tmp_path / 'stock' / 'latest'}: a version is named by ASCII digits"
    assert any(r.getMessage().startswith(skipped) for r in caplog.records)


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
    (line,) = errors_of(caplog)
    assert line.startswith(
        f"model classify version 1 not loaded: ArtifactError: {broken / 'metadata.json'}: "
    )
    assert "Invalid JSON" in line
    assert registry.failed["classify"].startswith("version 1: ArtifactError: ")
    assert list(registry.models) == ["sine"]
