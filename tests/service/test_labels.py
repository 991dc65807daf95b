"""TF Serving's version labels: `labels.json` beside a model's versions, read at each refresh."""

import json
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.core.batching import Options as BatchOptions
from service.core.errors import ModelUnavailable
from service.core.registry import Registry
from service.core.repository import Repository
from service.main import repository_of
from service.protocols.errors import BadRequest
from service.protocols.tfserving import ServableNotFound, model_of
from service.settings import Settings

COMMITTED = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    shutil.copytree(COMMITTED / "sine", tmp_path / "sine")
    (tmp_path / "sine" / "labels.json").unlink(missing_ok=True)  # each test writes its own
    return Registry(Repository(tmp_path), load=None, batching=BatchOptions())  # type: ignore[arg-type]


def test_labels_are_read_again_at_each_refresh(registry, tmp_path):
    registry.refresh()
    assert registry.labels == {}
    labels = tmp_path / "sine" / "labels.json"
    labels.write_text(json.dumps({"stable": 4}))
    registry.refresh()
    assert registry.labels == {"sine": {"stable": 4}}
    labels.write_text(json.dumps({"stable": 4, "canary": 5}))
    registry.refresh()
    assert registry.labels == {"sine": {"stable": 4, "canary": 5}}
    assert registry.listing == {"sine": [4]}  # the file is no version, and not skipped as one


@pytest.mark.parametrize("text", ['{"stable": "4"}', '["stable"]', "{not json", '{"a": 0}'])
def test_a_malformed_labels_file_gives_no_labels_and_is_logged(registry, tmp_path, caplog, text):
    (tmp_path / "sine" / "labels.json").write_text(text)
    registry.refresh()
    assert registry.labels == {}
    assert "labels.json" in caplog.text


def test_an_unknown_label_is_tf_servings_invalid_argument(registry, tmp_path):
    (tmp_path / "sine" / "labels.json").write_text(json.dumps({"stable": 4}))
    registry.refresh()
    with pytest.raises(BadRequest, match=r"^Unrecognized servable version label: canary$"):
        model_of(registry, "sine", label="canary")
    with pytest.raises(ModelUnavailable):
        model_of(registry, "sine", label="stable")  # known, but nothing is loaded here
    with pytest.raises(ServableNotFound, match=r"Latest\(nope\)"):
        model_of(registry, "nope")


def test_version_labels_file_names_the_file_read_instead_of_labels_json(tmp_path, caplog):
    shutil.copytree(COMMITTED / "sine", tmp_path / "sine")
    (tmp_path / "sine" / "labels.json").write_text(json.dumps({"stable": 4}))
    (tmp_path / "sine" / "versions.json").write_text(json.dumps({"canary": 4}))
    settings = Settings(models_dir=tmp_path, version_labels_file="versions.json")
    registry = Registry(repository_of(settings), load=None, batching=BatchOptions())  # type: ignore[arg-type]
    registry.refresh()
    assert registry.labels == {"sine": {"canary": 4}}
    assert registry.listing == {"sine": [4]}  # neither file is a version
    assert "versions.json" not in caplog.text  # the named one is not skipped as a stray entry


@pytest.mark.parametrize("name", ["", "a/b.json", "..", ".labels.json", "7", "a\\b"])
def test_version_labels_file_must_be_a_plain_file_name(name):
    with pytest.raises(ValidationError, match="version_labels_file"):
        Settings(version_labels_file=name)
