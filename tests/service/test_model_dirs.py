"""Broken model directories, as a careless operator makes them: each case builds its own.

A version that cannot serve is refused at start-up and at hot reload alike: the last good
version keeps serving, the refusal shows in readiness, the status routes and /metrics, and a
fault in one version or one model never stops the others.
"""

import errno
import json
import logging
import os
import re
import shutil
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import artifact
from service.core.registry import Registry
from service.core.reload import Reloader
from service.core.repository import Repository
from service.examples import CLASSIFY_X, SINE_X
from service.main import build_registry, create_app
from service.settings import Settings
from tests.service.conftest import COMMITTED_MODELS
from tests.service.fake_models import FAKES, copy_models, metadata

Edit = Callable[[dict], None]
PREDICT = {"sine": ("/predict/sine", {"x": SINE_X}), "classify": ("/classify", {"x": CLASSIFY_X})}


@pytest.fixture
def models(fake_models_dir, tmp_path) -> Path:
    """sine and classify at version 1, copied from the session's fakes."""
    return copy_models(fake_models_dir, tmp_path / "models", ["sine", "classify"])


def new_version(models_dir: Path, name: str, version: int, edit: Edit | None = None) -> Path:
    """A copy of the newest version of `name` as `version`, its metadata changed by `edit`."""
    names = [d.name for d in (models_dir / name).iterdir()]
    newest = max(int(n) for n in names if n.isascii() and n.isdigit() and n[0] != "0")
    source = models_dir / name / str(newest)
    path = models_dir / name / str(version)
    shutil.copytree(source, path)
    if edit is not None:
        meta = json.loads((path / "metadata.json").read_text())
        edit(meta)
        (path / "metadata.json").write_text(json.dumps(meta))
    return path


@contextmanager
def serving(models_dir: Path) -> Iterator[TestClient]:
    """The app on `models_dir`, hot reload polled by hand (`poll(client)`)."""
    with TestClient(create_app(Settings(models_dir=models_dir, reload_interval_s=0))) as client:
        yield client


def poll(client: TestClient) -> list:
    """One hot-reload poll of the app's registry, as the background task runs it."""
    return Reloader(registry_of(client)).check()


def registry_of(client: TestClient) -> Registry:
    return client.app_state["registry"]


def predict(client: TestClient, name: str):
    route, body = PREDICT[name]
    return client.post(route, json=body)


def rejected_gauge(client: TestClient) -> dict[str, str]:
    """model -> version of every `lstm_model_rejected ... 1` line of /metrics."""
    text = client.get("/metrics").text
    pattern = r'^lstm_model_rejected\{model="([^"]+)",version="(\d+)"\} 1\.0$'
    return dict(re.findall(pattern, text, re.MULTILINE))


def assert_refused(client: TestClient, name: str, version: int, serves: int) -> None:
    """`version` of `name` refused everywhere it shows, `serves` still answering."""
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["models"][name] == serves
    assert ready.json()["reload_errors"][name].startswith(f"version {version} rejected: ")
    states = {
        int(s["version"]): s
        for s in client.get(f"/v1/models/{name}").json()["model_version_status"]
    }
    assert states[version]["state"] == "END" and states[version]["status"]["error_message"]
    assert states[serves]["state"] == "AVAILABLE"
    card = {v["version"]: v for v in client.get(f"/models/{name}").json()["versions"]}
    assert card[version]["state"] == "END" and card[version]["error"]
    assert rejected_gauge(client) == {name: str(version)}
    answer = predict(client, name)
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == serves


def refused_at(when: str, models_dir: Path, name: str, edit: Edit) -> None:
    """Version 2 of `name`, changed by `edit`, refused at start-up or at a reload poll."""
    if when == "startup":
        new_version(models_dir, name, 2, edit)
    with serving(models_dir) as client:
        if when == "reload":
            new_version(models_dir, name, 2, edit)
            assert poll(client) == []
        assert_refused(client, name, 2, serves=1)
        assert poll(client) == []  # the same files are not tried again


WHEN = pytest.mark.parametrize("when", ["startup", "reload"])


# -- 1. metadata.json that parses but holds wrong values


@WHEN
def test_string_drift_threshold_is_refused(models, when):
    refused_at(when, models, "sine", lambda m: m["drift"].update(threshold="6"))


@WHEN
def test_string_bound_is_refused(models, when):
    refused_at(when, models, "sine", lambda m: m["bounds"]["x"].update(min="0"))


@WHEN
def test_bound_without_max_is_refused(models, when):
    refused_at(when, models, "sine", lambda m: m["bounds"]["x"].pop("max"))


@WHEN
def test_string_window_is_refused(models, when):
    refused_at(when, models, "sine", lambda m: m["input"].update(window="20"))


@WHEN
def test_unknown_drift_measure_is_refused(models, when):
    refused_at(when, models, "sine", lambda m: m["drift"].update(measure="mahalanobis"))


@WHEN
def test_missing_drift_score_role_is_refused(models, when):
    refused_at(when, models, "sine", lambda m: m["signature"]["outputs"]["drift_score"].pop("role"))


@WHEN
def test_output_the_graph_does_not_have_is_refused(models, when):
    def ghost(meta: dict) -> None:
        outputs = meta["signature"]["outputs"]
        outputs["ghost"] = outputs.pop("y")

    refused_at(when, models, "sine", ghost)


@WHEN
def test_wrong_output_shape_in_metadata_is_refused(models, when):
    refused_at(
        when, models, "sine", lambda m: m["signature"]["outputs"]["y"].update(shape=[None, 20, 2])
    )


@WHEN
@pytest.mark.parametrize(
    ("name", "task"),
    [("sine", "classification"), ("classify", "curve"), ("classify", "regression")],
)
def test_a_task_its_prediction_does_not_have_the_shape_of_is_refused(models, when, name, task):
    """A per-step probability read as a curve, or one value a step read as class
    probabilities, would serve wrong answers without an error: the shapes must agree."""
    refused_at(when, models, name, lambda m: m.update(task=task))


@WHEN
def test_drift_score_shape_other_than_the_window_is_refused(models, when):
    def flat(meta: dict) -> None:
        meta["signature"]["outputs"]["drift_score"]["shape"] = [None, 20]

    refused_at(when, models, "sine", flat)


@WHEN
def test_interval_outputs_without_interval_level_are_refused(tmp_path, when):
    sine = copy_models(COMMITTED_MODELS, tmp_path / "models", ["sine"])
    (served,) = Repository(sine).listing()["sine"]
    edit: Edit = lambda m: m.pop("interval")  # noqa: E731
    if when == "startup":
        new_version(sine, "sine", served + 1, edit)
    with serving(sine) as client:
        if when == "reload":
            new_version(sine, "sine", served + 1, edit)
            assert poll(client) == []
        assert_refused(client, "sine", served + 1, serves=served)


@WHEN
def test_number_as_description_is_refused(models, when):
    """The model card reads it as text: a number would be a 500 on GET /models/sine."""
    refused_at(when, models, "sine", lambda m: m.update(description=5))


@WHEN
def test_list_as_test_metrics_is_refused(models, when):
    """GET /models reads `metrics.test` as an object."""
    refused_at(when, models, "sine", lambda m: m["metrics"].update(test=[1, 2]))


def test_unknown_interval_kind_is_served_as_the_graph_applies_it(tmp_path):
    """`interval.kind` says how training built the band; the graph computes the bounds and the
    service never reads the kind (docs/artifact.md), so an unknown one does not refuse."""
    sine = copy_models(COMMITTED_MODELS, tmp_path / "models", ["sine"])
    (served,) = Repository(sine).listing()["sine"]
    with serving(sine) as client:
        new_version(sine, "sine", served + 1, lambda m: m["interval"].update(kind="cubic"))
        (installed,) = poll(client)
        answer = predict(client, "sine")
    assert installed.version == served + 1
    assert answer.status_code == 200 and answer.json()["version"] == served + 1
    assert len(answer.json()["intervals"]) == len(SINE_X)


def test_out_of_range_warning_still_answers_after_a_reload(models):
    """The warning text reads the bounds: the version that replaced the first one builds it."""
    with serving(models) as client:
        new_version(models, "sine", 2, lambda m: m["bounds"]["x"].update(max=0.5))
        (installed,) = poll(client)
        answer = predict(client, "sine")  # x in [3.2, 3.8]: past the fake's trained range
    assert installed.version == 2 and answer.status_code == 200, answer.text
    assert answer.json()["warnings"] and "trained range [0, 0.5]" in answer.text


# -- 2. stray entries in a model directory

STRAY_NAMES = {
    "superscript_two": "\u00b2",
    "arabic_indic_three": "\u0663",
    "leading_zero": "01",
    "zero": "0",
    "negative": "-1",
    "leading_space": " 3",
}


def skipped(caplog, path: Path) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.getMessage().startswith(f"skipping {path}:")
    ]


def assert_stray_is_harmless(models: Path, stray: Path, caplog) -> None:
    """Start-up and three polls serve sine 1 and reload classify 2; `stray` is logged once."""
    with caplog.at_level(logging.WARNING, logger="service"), serving(models) as client:
        new_version(models, "classify", 2)
        (installed,) = poll(client)
        assert poll(client) == [] and poll(client) == []
        ready = client.get("/health/ready").json()
        statuses = client.get("/v1/models/sine").json()["model_version_status"]
        assert predict(client, "sine").json()["version"] == 1
    assert installed.name == "classify" and installed.version == 2
    assert ready["ready"] is True and ready["models"] == {"classify": 2, "sine": 1}
    assert ready["reload_errors"] == {}
    assert [s["version"] for s in statuses] == ["1"]
    assert len(skipped(caplog, stray)) == 1, skipped(caplog, stray)


@pytest.mark.parametrize("entry", STRAY_NAMES.values(), ids=STRAY_NAMES.keys())
def test_version_not_named_by_plain_ascii_digits_is_skipped_and_logged_once(models, entry, caplog):
    """A complete export under the name: were it read as a number, it would be served."""
    stray = models / "sine" / entry
    shutil.copytree(models / "sine" / "1", stray)
    assert_stray_is_harmless(models, stray, caplog)


def test_arabic_indic_three_is_not_version_three_nor_01_version_one(tmp_path):
    for name in ("2", "\u0663", "01", "\u00b2"):
        (tmp_path / "m" / name).mkdir(parents=True)
        for file in ("saved_model.pb", "metadata.json"):
            (tmp_path / "m" / name / file).touch()
    assert Repository(tmp_path).listing() == {"m": [2]}


def test_dangling_symlink_as_version_directory_is_skipped_and_logged_once(models, caplog):
    stray = models / "sine" / "3"
    stray.symlink_to(models / "sine" / "nowhere")
    assert_stray_is_harmless(models, stray, caplog)


def test_file_named_as_a_version_is_skipped_and_logged_once(models, caplog):
    stray = models / "sine" / "4"
    stray.write_text("not a directory")
    assert_stray_is_harmless(models, stray, caplog)


def test_dangling_symlink_as_model_directory_is_skipped_and_logged_once(models, caplog):
    stray = models / "gone"
    stray.symlink_to(models / "nowhere")
    assert_stray_is_harmless(models, stray, caplog)


def test_dangling_symlink_inside_a_new_version_refuses_it_and_the_poll_goes_on(models, caplog):
    """The variables file is a link to nothing: sine 2 is refused (once), classify 2 served."""
    with caplog.at_level(logging.ERROR, logger="service"), serving(models) as client:
        broken = new_version(models, "sine", 2)
        data = next((broken / "variables").glob("variables.data-*"))
        data.unlink()
        data.symlink_to(broken / "nowhere")
        new_version(models, "classify", 2)
        installed = poll(client)
        assert poll(client) == [] and poll(client) == []
        assert [(m.name, m.version) for m in installed] == [("classify", 2)]
        assert_refused(client, "sine", 2, serves=1)
    assert len([r for r in caplog.records if "reload of sine version 2" in r.getMessage()]) == 1


def test_dangling_symlink_beside_the_export_does_not_stop_it(models):
    """A link to nothing that the export does not need (a chart, a note): served."""
    with serving(models) as client:
        extra = new_version(models, "sine", 2) / "predictions.png"
        extra.symlink_to(models / "nowhere.png")
        (installed,) = poll(client)
        card = client.get("/models/sine").json()
    assert installed.version == 2 and card["charts"] == {}


def test_version_without_metadata_is_skipped_and_logged_once(models, caplog):
    stray = models / "sine" / "2"
    stray.mkdir()
    (stray / "saved_model.pb").write_bytes(b"")
    assert_stray_is_harmless(models, stray, caplog)


# -- 3. symlinks between exports


@WHEN
def test_version_linked_to_another_models_export_is_refused(models, when):
    link = models / "sine" / "2"
    if when == "startup":
        link.symlink_to(Path("..", "classify", "1"))
    with serving(models) as client:
        if when == "reload":
            link.symlink_to(Path("..", "classify", "1"))
            assert poll(client) == []
        assert_refused(client, "sine", 2, serves=1)
        y = predict(client, "sine").json()["y"]
    assert len(y) == len(SINE_X) and all(isinstance(v, float) for v in y)  # not probabilities


def test_version_linked_to_the_same_models_older_export_is_served(models):
    with serving(models) as client:
        (models / "sine" / "2").symlink_to("1")  # e.g. a rollback: the old export, a new number
        (installed,) = poll(client)
        answer = predict(client, "sine")
    assert installed.version == 2 and answer.json()["version"] == 2


def test_version_linked_to_an_export_of_the_model_elsewhere_is_served(models, tmp_path):
    elsewhere = tmp_path / "exports" / "sine" / "7"
    shutil.copytree(models / "sine" / "1", elsewhere)
    (models / "sine" / "2").symlink_to(elsewhere)  # absolute, outside the models directory
    with serving(models) as client:
        answer = predict(client, "sine")
    assert answer.status_code == 200 and answer.json()["version"] == 2


def test_model_directory_linked_to_another_model_is_refused(models):
    (models / "cosine").symlink_to("sine")  # its exports say they are "sine"
    with serving(models) as client:
        ready = client.get("/health/ready")
        assert predict(client, "sine").status_code == 200
    assert ready.status_code == 503 and ready.json()["failed"] == ["cosine"]


# -- 4. a huge metadata.json


def rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def test_100_mb_metadata_is_refused_unread(models):
    registry = build_registry(Settings(models_dir=models))
    huge = models / "sine" / "2"
    shutil.copytree(models / "sine" / "1", huge)
    with (huge / "metadata.json").open("r+b") as file:
        file.truncate(100 << 20)  # sparse: 100 MB to stat and read, nothing on disk
    before = rss_kib()
    tracemalloc.start()
    try:
        assert Reloader(registry).check() == []
        peak = tracemalloc.get_traced_memory()[1]  # a read, even freed again, would show here
    finally:
        tracemalloc.stop()
    assert rss_kib() - before < 20 << 10
    assert peak < 20 << 20
    assert registry.rejected["sine"].keys() == {2} and registry.model("sine").version == 1
    with pytest.raises(artifact.ArtifactError, match="over the limit"):
        artifact.read(huge)


# -- 5. a fault in one model never stops the others


def test_model_with_every_version_broken_leaves_the_others_serving_but_not_ready_strict(models):
    """Readiness is strict (docs/architecture.md): every model found must serve, so 503."""
    for version in (1, 2):
        path = models / "sine" / str(version)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        (path / "saved_model.pb").write_bytes(b"not a protobuf")
        (path / "metadata.json").write_text("{}")
    with serving(models) as client:
        ready = client.get("/health/ready")
        classify = predict(client, "classify")
        sine = predict(client, "sine")
        statuses = client.get("/v1/models/sine").json()["model_version_status"]
    assert ready.status_code == 503
    assert ready.json()["models"] == {"classify": 1} and ready.json()["failed"] == ["sine"]
    assert classify.status_code == 200 and sine.status_code == 503
    assert [(s["version"], s["state"]) for s in statuses] == [("2", "END"), ("1", "END")]
    assert all(s["status"]["error_message"] for s in statuses)


def test_broken_new_version_of_one_model_does_not_stop_reload_of_another(models):
    with serving(models) as client:
        new_version(models, "sine", 2, lambda m: m["drift"].update(threshold="high"))
        new_version(models, "classify", 2)
        installed = poll(client)
        assert [(m.name, m.version) for m in installed] == [("classify", 2)]
        assert predict(client, "classify").json()["version"] == 2
        assert_refused(client, "sine", 2, serves=1)


def test_model_whose_listing_fails_does_not_stop_reload_of_another(models, monkeypatch, caplog):
    """Reading sine's directory fails (a network volume's hiccup): classify still reloads."""
    real = Path.iterdir

    def iterdir(self: Path):
        if self == models / "sine":
            raise OSError(errno.EIO, "Input/output error")
        return real(self)

    with caplog.at_level(logging.WARNING, logger="service"), serving(models) as client:
        new_version(models, "classify", 2)
        monkeypatch.setattr(Path, "iterdir", iterdir)
        installed = poll(client)
        assert poll(client) == []
        assert [(m.name, m.version) for m in installed] == [("classify", 2)]
        assert predict(client, "sine").json()["version"] == 1
    assert len(skipped(caplog, models / "sine")) == 1


def test_new_version_beside_a_refused_newer_one_is_loaded(models):
    """3 is refused; 2, newer than the served 1, is tried next in the same poll."""
    with serving(models) as client:
        new_version(models, "sine", 2)
        new_version(models, "sine", 3, lambda m: m["drift"].update(threshold="6"))
        (installed,) = poll(client)
        assert installed.version == 2
        assert_refused(client, "sine", 3, serves=2)


def test_fixed_version_after_startup_refusal_is_served(models):
    broken = new_version(models, "sine", 2, lambda m: m["drift"].update(threshold="6"))
    with serving(models) as client:
        meta = json.loads((broken / "metadata.json").read_text())
        meta["drift"]["threshold"] = 6.0
        (broken / "metadata.json").write_text(json.dumps(meta))
        os.utime(broken / "metadata.json", ns=(1, 2**62))  # surely newer than the refused files
        (installed,) = poll(client)
        ready = client.get("/health/ready").json()
        gauge = rejected_gauge(client)
    assert installed.version == 2 and ready["reload_errors"] == {} and gauge == {}


def test_refused_version_removed_from_disk_clears_its_error(models):
    with serving(models) as client:
        broken = new_version(models, "sine", 2, lambda m: m["drift"].update(threshold="6"))
        poll(client)
        assert client.get("/health/ready").json()["reload_errors"].keys() == {"sine"}
        shutil.rmtree(broken)
        assert poll(client) == []
        ready = client.get("/health/ready").json()
        statuses = client.get("/v1/models/sine").json()["model_version_status"]
        gauge = rejected_gauge(client)
    assert ready["reload_errors"] == {} and gauge == {}
    assert [s["version"] for s in statuses] == ["1"]


# -- 6. status routes never list the disk


def test_status_routes_read_the_cached_listing(models, monkeypatch):
    calls = []
    real = Repository.listing

    def listing(self) -> dict[str, list[int]]:
        if self.models_dir == models:  # not the polls of other apps alive in this process
            calls.append(1)
        return real(self)

    monkeypatch.setattr(Repository, "listing", listing)
    with serving(models) as client:
        at_start = len(calls)
        for _ in range(20):
            for route in ("/v1/models/sine", "/models/sine", "/v2/models/sine/ready"):
                assert client.get(route).status_code == 200
        during = len(calls) - at_start
        poll(client)
    assert at_start == 1 and during == 0
    assert len(calls) == 2  # the poll lists once, in its worker thread


# -- 7. the warm-up runs the whole answer path


def export(models_dir: Path, version: int, build: Callable, claimed_shape: list | None = None):
    """A sine version whose graph is `build()`; its metadata may claim another output shape."""
    from training.serving import serving_model, signature

    _, task, features, shape = FAKES["sine"]
    meta = metadata("sine", task, features, shape) | {"version": version}
    path = models_dir / "sine" / str(version)
    serving_graph = serving_model("sine", build(), meta)
    serving_graph.export(str(path), format="tf_saved_model", verbose=False)
    meta["signature"] = signature(serving_graph, meta)
    if claimed_shape is not None:
        meta["signature"]["outputs"]["y"]["shape"] = claimed_shape
    (path / "metadata.json").write_text(json.dumps(meta))
    return path


def _log_below_one():
    """y = log(x - 1): -inf for the warm-up's window of ones, finite for x > 1."""
    import keras
    from keras import ops

    window = keras.Input(shape=(20, 1), name="window")
    return keras.Model(window, keras.layers.Lambda(lambda x: ops.log(x - 1.0))(window))


def _two_per_step():
    import keras

    window = keras.Input(shape=(20, 1), name="window")
    return keras.Model(window, keras.layers.Dense(2)(window))  # (batch, 20, 2)


def test_graph_with_non_finite_warm_up_prediction_is_refused(models, caplog):
    with caplog.at_level(logging.ERROR, logger="service"), serving(models) as client:
        export(models, 2, _log_below_one)
        assert poll(client) == []
        assert_refused(client, "sine", 2, serves=1)
    assert "not finite" in caplog.text


def test_graph_whose_output_shape_differs_from_the_metadata_is_refused(models, caplog):
    with caplog.at_level(logging.ERROR, logger="service"), serving(models) as client:
        export(models, 2, _two_per_step, claimed_shape=[None, 20, 1])
        assert poll(client) == []
        assert_refused(client, "sine", 2, serves=1)
    assert "output 'y' has shape [2, 20, 2]" in caplog.text


def test_a_regression_on_columns_daily_rows_lack_answers_501_natively(fake_models_dir, tmp_path):
    """Its windows still serve through v2; the native rows cannot carry its features."""
    models = copy_models(fake_models_dir, tmp_path / "models", ["stock"])
    version = next(p for p in (models / "stock").iterdir() if p.name.isdigit())
    meta = json.loads((version / "metadata.json").read_text())
    rename = {"volume": "vol"}
    meta["input"]["features"] = [rename.get(f, f) for f in meta["input"]["features"]]
    rules = meta["input"]["rules"]
    rules["non_negative"] = [rename.get(f, f) for f in rules.get("non_negative", [])]
    meta["bounds"] = {rename.get(k, k): v for k, v in meta.get("bounds", {}).items()}
    (version / "metadata.json").write_text(json.dumps(meta))
    rows = [{"open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5, "volume": 1000.0}] * 20
    window = [[r[f] for f in ("open", "high", "low", "close", "volume")] for r in rows]
    v2 = {"inputs": [{"name": "window", "shape": [1, 20, 5], "datatype": "FP32",
                      "data": np.array(window).ravel().tolist()}]}  # fmt: skip
    with serving(models) as client:
        native = client.post("/predict/stock", json={"rows": rows})
        assert native.status_code == 501, native.text
        assert "(vol)" in native.json()["error"] and "/v2" in native.json()["error"]
        assert client.post("/v2/models/stock/infer", json=v2).status_code == 200


def test_readiness_of_a_version_not_on_disk_is_404_while_nothing_is_loaded(models):
    """A model with no version that loads: not ready (503), and a version it never had is
    not there (404), as for a model that serves."""
    (models / "sine" / "1" / "metadata.json").write_text("{}")
    with serving(models) as client:
        assert client.get("/v2/models/sine/ready").status_code == 503
        missing = client.get("/v2/models/sine/versions/9/ready")
        assert missing.status_code == 404 and "no version 9" in missing.json()["error"]
        assert client.get("/v2/models/nope/ready").status_code == 404
