"""The ceiling answers a constant through the shipped routes; the harness reads /proc."""

import os

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bench import harness
from bench.__main__ import source, speakers
from bench.bodies import ENDPOINTS, NATIVE, stock_rows
from bench.ceiling import app as ceiling_app


def test_ceiling_serves_the_shipped_routes_with_a_constant_answer():
    with TestClient(ceiling_app) as client:
        body = client.post("/predict/stock", json=stock_rows(22)).json()
        assert body["predictions"] == [1.0, 1.0, 1.0]
        y = client.post("/predict/sine", json=ENDPOINTS["/predict/sine"]).json()["y"]
        assert np.array(y).shape == (20,) and set(y) == {1.0}
        invalid = client.post("/predict/stock", json={"rows": []})
        assert invalid.status_code == 422  # the same validation as the service


def test_cpu_seconds_reads_this_process_from_proc():
    assert harness.cpu_seconds(os.getpid()) > 0


def test_rss_is_read_in_bytes():
    assert (
        10 * 2**20 < harness.rss_bytes(os.getpid()) < 100 * 2**30
    )  # KiB read as bytes: 1024x too small


def test_a_server_never_started_stops_without_error():
    server = harness.Server("bench.bare:app")
    server.stop()  # as a run's cleanup does after an earlier server failed to start
    assert server.log.closed


def test_the_run_records_the_commit_and_whether_the_tree_is_dirty():
    found = source()
    if found["commit"] is None:
        pytest.skip("not a git checkout")
    assert len(found["commit"]) == 40 and int(found["commit"], 16) >= 0
    assert found["dirty"] is (found["changed_files"] > 0)


def test_the_naive_server_is_driven_on_the_native_routes_only():
    servers = {"bare": 1, "shipped": 2, "ceiling": 3, "naive": 4}
    assert list(speakers(servers, "/predict/stock")) == list(servers)
    assert list(speakers(servers, "/v2/models/stock/infer")) == ["bare", "shipped", "ceiling"]
    assert set(ENDPOINTS) - set(NATIVE) == {"/v2/models/stock/infer"}
