"""The benchmark's own parts: the ceiling really answers a constant, the targets really judge."""

import numpy as np
from fastapi.testclient import TestClient

from bench import report
from bench.bodies import ENDPOINTS, stock_rows
from bench.ceiling import app as ceiling_app


def test_ceiling_serves_the_shipped_routes_with_a_constant_answer():
    with TestClient(ceiling_app) as client:
        body = client.post("/predict/stock", json=stock_rows(22)).json()
        assert body["predictions"] == [1.0, 1.0, 1.0]
        y = client.post("/predict/sine", json=ENDPOINTS["/predict/sine"]).json()["y"]
        assert np.array(y).shape == (20,) and set(y) == {1.0}
        invalid = client.post("/predict/stock", json={"rows": []})
        assert invalid.status_code == 422  # the same validation as the service


def run(rps: float, p99: float) -> dict:
    return {"rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "errors": 0}


def results(shipped_rps: float, shipped_p99: float, naive_rps: float = 10) -> dict:
    by_path = lambda r: {"/predict/stock": {"64": r}}  # noqa: E731
    return {
        "runs": {
            "shipped": by_path(run(shipped_rps, shipped_p99)),
            "ceiling": by_path(run(1000, 100)),
            "naive": by_path(run(naive_rps, 5000)),
        },
        "extra": {"server_time": {"median_ms": 4.0}, "startup_s": 9.0,
                  "import_tensorflow_s": 5.0, "rss_ready_mb": 701.0},
    }  # fmt: skip


def verdicts(checks: list[dict]) -> dict[str, bool]:
    return {c["target"]: c["pass"] for c in checks}


def test_targets_pass_and_fail_on_their_bounds():
    good = verdicts(report.targets(results(900, 140)))
    assert good["stock@64 rps >= 80% of ceiling"] and good["stock@64 p99 <= 1.5x ceiling"]
    assert good["/predict/stock@64 rps >= 50x naive"]
    assert good["275-row request, server-side median ms"]
    assert not good["start to ready - import tensorflow, s"]  # 4 s over
    assert not good["RSS with the three models, MB"]  # 701 MB
    bad = verdicts(report.targets(results(700, 160, naive_rps=20)))
    assert not bad["stock@64 rps >= 80% of ceiling"] and not bad["stock@64 p99 <= 1.5x ceiling"]
    assert not bad["/predict/stock@64 rps >= 50x naive"]  # 35x
