"""Hot reload: a new version is loaded, warmed and swapped in; a corrupt one is rejected."""

import json
import logging
import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import artifact
from service.core.registry import Registry
from service.core.reload import Reloader
from service.examples import SINE_X
from service.main import build_registry, create_app
from service.settings import Settings
from tests.service.fake_models import copy_models, write_fake_model
from tests.service.in_memory import outputs


def load_registry(models_dir: Path) -> Registry:
    return build_registry(Settings(models_dir=models_dir))


@pytest.fixture
def sine_dir(fake_models_dir, tmp_path) -> Path:
    return copy_models(fake_models_dir, tmp_path, ["sine"])


def corrupt_version(models_dir: Path, name: str, version: int) -> Path:
    path = models_dir / name / str(version)
    path.mkdir()
    (path / "saved_model.pb").write_bytes(b"not a protobuf")
    (path / "metadata.json").write_text(json.dumps({"input": {"window": 20, "features": ["x"]}}))
    return path


def test_new_version_is_loaded_and_served(sine_dir):
    registry = load_registry(sine_dir)
    reloader = Reloader(registry)
    assert reloader.check() == []  # nothing new yet
    write_fake_model(sine_dir, "sine", version=2)
    (swapped,) = reloader.check()
    assert swapped.version == 2 and registry.model("sine") is swapped
    assert reloader.check() == []  # and only once


def test_absent_model_appearing_is_loaded(sine_dir, fake_models_dir):
    registry = load_registry(sine_dir)
    copy_models(fake_models_dir, sine_dir, ["classify"])
    (swapped,) = Reloader(registry).check()
    assert swapped.name == "classify" and "classify" in registry.models


def test_corrupt_version_is_rejected_and_old_keeps_serving(sine_dir, caplog):
    registry = load_registry(sine_dir)
    reloader = Reloader(registry)
    corrupt_version(sine_dir, "sine", 2)
    with caplog.at_level(logging.ERROR, logger="service"):
        assert reloader.check() == []
    assert registry.model("sine").version == 1
    assert registry.readiness().rejected["sine"].startswith("version 2 rejected: ")
    assert "reload of sine version 2 failed" in caplog.text
    assert "still serving version 1" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="service"):
        reloader.check()
    assert caplog.text == ""  # the same broken files are not retried every poll


def test_fixed_version_after_rejection_is_served_and_clears_the_error(sine_dir):
    registry = load_registry(sine_dir)
    reloader = Reloader(registry)
    corrupt_version(sine_dir, "sine", 3)
    reloader.check()
    write_fake_model(sine_dir, "sine", version=4)
    (swapped,) = reloader.check()
    assert swapped.version == 4 and "sine" not in registry.readiness().rejected


def test_status_shows_the_reload_error(sine_dir):
    with TestClient(create_app(Settings(models_dir=sine_dir, reload_interval_s=0))) as client:
        registry = client.app_state["registry"]
        corrupt_version(sine_dir, "sine", 2)
        Reloader(registry).check()
        ready = client.get("/health/ready").json()
        assert ready["ready"] is True and ready["models"] == {"sine": 1}
        assert ready["reload_errors"]["sine"].startswith("version 2 rejected: ")
        assert str(sine_dir) not in client.get("/health/ready").text  # no path reaches a client
        response = client.post("/predict/sine", json={"x": SINE_X})
        assert response.status_code == 200 and response.json()["version"] == 1


def test_request_in_flight_finishes_on_the_old_version(fake_models_dir, tmp_path):
    """Version 1's call is held open while version 2 is installed: each answers as itself."""
    started, release = threading.Event(), threading.Event()
    sine_dir = copy_models(fake_models_dir, tmp_path, ["sine"])
    spec = artifact.read(sine_dir / "sine" / "1")

    def slow(batch: np.ndarray) -> dict:
        started.set()
        release.wait(timeout=30)
        return outputs(spec, batch, 0.0)

    served = {1: slow, 2: lambda batch: outputs(spec, batch, 1.0)}
    settings = Settings(models_dir=sine_dir, reload_interval_s=0)
    client = TestClient(create_app(settings, load=lambda path: (spec, served[int(path.name)])))
    with client:
        answers = []
        in_flight = threading.Thread(
            target=lambda: answers.append(client.post("/predict/sine", json={"x": SINE_X}))
        )
        in_flight.start()
        assert started.wait(timeout=30)  # the request is inside version 1's model call
        registry = client.app_state["registry"]
        registry.install(registry.load_version("sine", 2))
        release.set()  # version 2's call waits behind version 1's in the one worker
        after = client.post("/predict/sine", json={"x": SINE_X}).json()
        in_flight.join(timeout=30)
    assert answers[0].status_code == 200 and answers[0].json()["version"] == 1
    assert answers[0].json()["y"] == [0.0] * 20
    assert after["version"] == 2 and after["y"] == [1.0] * 20


def test_no_request_fails_during_a_swap_under_load(sine_dir):
    """Four clients post in a loop while version 2 is loaded, warmed and swapped in."""
    with TestClient(create_app(Settings(models_dir=sine_dir, reload_interval_s=0))) as client:
        registry = client.app_state["registry"]
        statuses, versions, lock = [], set(), threading.Lock()
        first_answer = threading.Barrier(5)
        done = threading.Event()

        def load() -> None:
            waited = False
            for _ in range(2000):  # bounded: stops by itself
                response = client.post("/predict/sine", json={"x": SINE_X})
                with lock:
                    statuses.append(response.status_code)
                    versions.add(response.json().get("version"))
                if not waited:
                    first_answer.wait(timeout=60)
                    waited = True
                if done.is_set():
                    return

        clients = [threading.Thread(target=load) for _ in range(4)]
        for thread in clients:
            thread.start()
        first_answer.wait(timeout=60)  # every client has had an answer from version 1
        write_fake_model(sine_dir, "sine", version=2)
        Reloader(registry).check()
        for _ in range(4):  # a few more rounds on the new version
            assert client.post("/predict/sine", json={"x": SINE_X}).json()["version"] == 2
        done.set()
        for thread in clients:
            thread.join(timeout=60)
    assert statuses and set(statuses) == {200}
    assert versions <= {1, 2} and 1 in versions


def test_reload_uses_the_registry_loader(sine_dir):
    loaded = []
    registry = load_registry(sine_dir)
    spec = registry.model("sine").spec

    def load(path: Path):
        loaded.append(path)
        return spec, lambda batch: outputs(spec, batch, 0.0)

    registry.load = load
    (sine_dir / "sine" / "5").mkdir()
    for name in ("saved_model.pb", "metadata.json"):
        (sine_dir / "sine" / "5" / name).touch()
    Reloader(registry).check()
    assert loaded == [sine_dir / "sine" / "5"] and registry.model("sine").version == 5
