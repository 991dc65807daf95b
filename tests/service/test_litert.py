"""The default runtime: each export's model.tflite run by LiteRT, answering as the SavedModel."""

import json
import logging
import shutil

import numpy as np
import pytest

from artifact import litert
from artifact.litert import LiteFunction
from artifact.metadata import ArtifactError
from service.core import inference, loader
from service.core.inference import ServingFunction
from service.core.repository import Repository
from training import lite

TENSORFLOW = inference.Options(runtime="tensorflow")


def newest(models_dir, name):
    repository = Repository(models_dir)
    return repository.path(name, repository.listing()[name][0])


def copy_version(models_dir, name, tmp_path, as_name=None):
    """A copy of the newest tiny `name` export as `<tmp>/<as_name>/1`."""
    target = tmp_path / (as_name or name) / "1"
    shutil.copytree(newest(models_dir, name), target)
    return target


@pytest.mark.parametrize("name", ["stock", "sine", "classify"])
def test_the_export_writes_model_tflite_checked_against_the_savedmodel(models_dir, name):
    path = newest(models_dir, name)
    check = json.loads((path / "metadata.json").read_text())["litert"]
    assert (path / litert.FILE).stat().st_size > 0 and check["file"] == litert.FILE
    assert 0 <= check["max_relative_difference"] <= check["tolerance"] == lite.TOLERANCE


@pytest.mark.parametrize("name", ["stock", "sine", "classify"])
def test_litert_answers_as_tensorflow_for_every_batch_size(models_dir, name):
    path = newest(models_dir, name)
    spec, fast = loader.load(path)
    _, slow = loader.load(path, TENSORFLOW)
    assert isinstance(fast, LiteFunction) and isinstance(slow, ServingFunction)
    assert set(fast.names) == set(slow.names) == set(spec.outputs)
    rng = np.random.default_rng(1)
    for n in (1, 3, 64, 65, 300):  # padded to a bucket; 300 exceeds the largest: in pieces
        batch = rng.uniform(0.8, 1.2, (n, *spec.input_shape)).astype(np.float32)
        got, want = fast(batch), slow(batch)
        for output, values in want.items():
            assert got[output].shape == values.shape and len(values) == n
            np.testing.assert_allclose(got[output], values, rtol=1e-4, atol=1e-5)


def test_a_version_without_model_tflite_is_served_by_tensorflow(models_dir, tmp_path, caplog):
    path = copy_version(models_dir, "stock", tmp_path)
    (path / litert.FILE).unlink()
    with caplog.at_level(logging.INFO, logger="service.core.loader"):
        _, serve = loader.load(path)
    assert isinstance(serve, ServingFunction)
    assert f"no {litert.FILE}, so TensorFlow serves its SavedModel" in caplog.text


def test_a_corrupt_model_tflite_refuses_the_version_naming_the_file(models_dir, tmp_path):
    path = copy_version(models_dir, "stock", tmp_path)
    (path / litert.FILE).write_bytes(b"not a flatbuffer" * 64)
    with pytest.raises(ArtifactError, match=rf"{litert.FILE}: LiteRT cannot run it"):
        loader.load(path)


def test_another_models_tflite_is_refused_by_its_input_shape(models_dir, tmp_path):
    path = copy_version(models_dir, "stock", tmp_path)
    shutil.copy(newest(models_dir, "sine") / litert.FILE, path / litert.FILE)  # (20, 1) input
    with pytest.raises(ArtifactError, match=r"the input is \(batch, \[20, 1\]\).*\[20, 5\]"):
        loader.load(path)


def test_the_tensorflow_runtime_ignores_model_tflite(models_dir, tmp_path):
    path = copy_version(models_dir, "stock", tmp_path)
    (path / litert.FILE).write_bytes(b"never read")
    _, serve = loader.load(path, TENSORFLOW)
    assert isinstance(serve, ServingFunction)


def test_the_lite_command_adds_the_file_only_where_missing(models_dir, tmp_path, capsys):
    path = copy_version(models_dir, "classify", tmp_path / "models")
    kept = copy_version(models_dir, "sine", tmp_path / "models")
    (path / litert.FILE).unlink()
    meta = json.loads((path / "metadata.json").read_text())
    del meta["litert"]
    (path / "metadata.json").write_text(json.dumps(meta))
    before = (kept / litert.FILE).read_bytes()
    assert lite.main([str(tmp_path / "models")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 version(s) converted"
    assert json.loads((path / "metadata.json").read_text())["litert"]["file"] == litert.FILE
    assert isinstance(loader.load(path)[1], LiteFunction)
    assert (kept / litert.FILE).read_bytes() == before
    assert lite.main([str(tmp_path / "models")]) == 0  # nothing left to do
    assert capsys.readouterr().out.splitlines()[-1] == "0 version(s) converted"


def test_the_lite_command_refuses_a_missing_directory(tmp_path, capsys):
    assert lite.main([str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_every_line_the_served_litert_models_log_is_json(models_dir):
    """LiteRT's own one line about its CPU delegate (C++, on stderr) does not reach the log."""
    from tests.service.live import start, stop

    proc, _ = start(models_dir, {"LOG_FORMAT": "json"})
    stop(proc)
    lines = [line for line in proc.stdout.read().splitlines() if line.strip()]
    assert any("ready: serving" in line for line in lines)
    for line in lines:
        assert isinstance(json.loads(line), dict), line
