"""A model's task, read from its metadata, picks its request and answer shapes."""

import json
import shutil
from pathlib import Path

import pytest

from artifact.metadata import ArtifactError, read

COMMITTED = Path(__file__).resolve().parents[2] / "models"


def version_dir(tmp_path: Path, name: str, task: str | None = None) -> Path:
    versions = [v for v in (COMMITTED / name).iterdir() if v.name.isdigit()]
    newest = max(versions, key=lambda v: int(v.name))
    path = tmp_path / name / newest.name
    shutil.copytree(newest, path)
    if task is not None:
        meta = json.loads((path / "metadata.json").read_text())
        meta["task"] = task
        (path / "metadata.json").write_text(json.dumps(meta))
    return path


@pytest.mark.parametrize(
    ("name", "task"), [("stock", "regression"), ("sine", "curve"), ("classify", "classification")]
)
def test_each_committed_model_says_its_task(tmp_path, name, task):
    assert read(version_dir(tmp_path, name)).task == task


def test_an_older_export_calling_a_per_step_prediction_regression_is_a_curve(tmp_path):
    assert read(version_dir(tmp_path, "sine", "regression")).task == "curve"


def test_an_unknown_task_is_refused_at_load(tmp_path):
    with pytest.raises(ArtifactError, match="task"):
        read(version_dir(tmp_path, "sine", "forecast"))
