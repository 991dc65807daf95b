"""The benchmark's report: each target judges on its bound, the chart draws, the units hold."""

import json

import pytest

from bench import report

PATHS = ("/predict/stock", "/predict/sine", "/classify")
MIB = 2**20


def run(rps: float, p50: float, p99: float, errors: int = 0) -> dict:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "max_ms": p99 * 2, "errors": errors}


def synthetic(**shipped_changes) -> dict:
    """A run where every ratio target passes: shipped at 0.7x bare's req/s, 1.4x its p99,
    3.9x its p50 at 1 connection and 70x naive's req/s; `shipped_changes` alters shipped."""
    runs = {"bare": {}, "shipped": {}, "ceiling": {}, "naive": {}}
    for path in PATHS:
        runs["bare"][path] = {"1": run(900, 1.0, 2.0), "64": run(1000, 50, 100)}
        runs["shipped"][path] = {"1": run(300, 3.9, 8.0), "64": run(700, 80, 140)}
        runs["ceiling"][path] = {"1": run(400, 2.5, 5.0), "64": run(800, 70, 120)}
        runs["naive"][path] = {"1": run(9, 100, 200), "64": run(10, 5000, 9000)}
    for key, value in shipped_changes.items():  # e.g. rps_64=500
        measure, conns = key.rsplit("_", 1)
        for path in PATHS:
            runs["shipped"][path][conns][measure] = value
    return {
        "source": {"commit": "0123456789abcdef", "dirty": False, "changed_files": 0},
        "machine": {"cpus": 2, "cpu_model": "test cpu", "date": "2026-01-01 00:00 UTC"},
        "runs": runs,
        "extra": {"server_time": {"median_ms": 4.0, "p90_ms": 5.0, "model_call_ms": 2.0},
                  "startup_s": 2.0, "import_tensorflow_s": 5.0,
                  "rss_ready_bytes": 650 * MIB, "rss_after_load_bytes": 660 * MIB},
    }  # fmt: skip


def verdicts(results: dict) -> dict[str, bool]:
    return {c["target"]: c["pass"] for c in report.targets(results)}


def ratio(path: str, conns: str, measure: str, other: str) -> str:
    """The name of one ratio target, found by its parts (the wording may change)."""
    names = [
        c["target"]
        for c in report.targets(synthetic())
        if f"`{path}` @{conns} conns" in c["target"]
        and measure in c["target"]
        and other in c["target"]
    ]
    assert len(names) == 1, names
    return names[0]


RATIO_CASES = {  # (connections, measure, other): (a passing value, a failing value) of shipped's
    ("64", "req/s", "bare"): ("rps_64", 600, 599),  # bare does 1000 req/s: >= 0.6x
    ("64", "p99", "bare"): ("p99_ms_64", 150, 151),  # bare's p99 is 100 ms: <= 1.5x
    ("1", "p50", "bare"): ("p50_ms_1", 4.0, 4.1),  # bare's p50 is 1 ms: <= 4x
    ("64", "req/s", "naive"): ("rps_64", 500, 499),  # naive does 10 req/s: >= 50x
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(RATIO_CASES), ids=lambda c: "-".join(c))
def test_each_ratio_passes_at_its_bound_and_fails_past_it(path, case):
    conns, measure, other = case
    key, good, bad = RATIO_CASES[case]
    name = ratio(path, conns, measure, other)
    assert verdicts(synthetic(**{key: good}))[name]
    failing = verdicts(synthetic(**{key: bad}))
    assert not failing[name]
    others = {n: ok for n, ok in failing.items() if n != name and path in n}
    # the same change moves only this endpoint's other req/s target (bare or naive)
    assert sum(not ok for ok in others.values()) <= 1


def test_a_good_run_passes_every_target_for_every_endpoint():
    checks = report.targets(synthetic())
    assert all(c["pass"] for c in checks), [c for c in checks if not c["pass"]]
    for path in PATHS:
        assert sum(f"`{path}`" in c["target"] for c in checks) == len(report.RATIOS)
    assert not any("ceiling" in c["target"] for c in checks)  # diagnosis only, no target


def test_shipped_errors_fail_its_ratios_whatever_the_numbers():
    results = synthetic()
    results["runs"]["shipped"]["/classify"]["64"]["errors"] = 3
    checks = {c["target"]: c for c in report.targets(results)}
    failed = [name for name, c in checks.items() if not c["pass"]]
    assert failed and all("`/classify` @64" in name for name in failed)
    assert "shipped had 3 errors" in checks[failed[0]]["detail"]


@pytest.mark.parametrize(
    ("extra", "fragment", "passes"),
    [
        ({"server_time": {"median_ms": 10.0}}, "275-row", True),
        ({"server_time": {"median_ms": 10.1}}, "275-row", False),
        ({"startup_s": 3.0, "import_tensorflow_s": 5.0}, "start to ready", True),
        ({"startup_s": 3.1, "import_tensorflow_s": 1.0}, "start to ready", False),
        ({"rss_ready_bytes": 700 * 10**6}, "RSS", True),
        ({"rss_ready_bytes": 700 * MIB}, "RSS", False),  # 700 MiB is 734 MB
    ],
)
def test_single_measurements_judge_on_their_bounds(extra, fragment, passes):
    results = synthetic()
    results["extra"] = extra
    (verdict,) = [ok for name, ok in verdicts(results).items() if fragment in name]
    assert verdict is passes


def test_memory_is_printed_in_mb_and_mib():
    lines = report.extras({"rss_ready_bytes": 700 * MIB})
    assert "734 MB (700 MiB) when ready" in lines
    after_only = report.extras({"rss_after_load_bytes": 10**9})  # a --no-extras run
    assert after_only.endswith("1000 MB (954 MiB) after the load runs")
    (rss,) = [c for c in report.targets({"runs": {}, "extra": {"rss_ready_bytes": 700 * MIB}})]
    assert rss["value"] == pytest.approx(734.003) and "700 MiB" in rss["detail"]


def test_the_table_has_a_column_per_variant_and_a_row_per_endpoint_and_count():
    lines = report.table(synthetic()).splitlines()
    assert [v in lines[0] for v in ("bare", "shipped", "ceiling", "naive")] == [True] * 4
    assert len(lines) == 2 + len(PATHS) * 2
    assert "| `/predict/sine` | 64 | 1,000, 50.0 / 100.0 | 700, 80.0 / 140.0 |" in lines[5]


def test_the_targets_table_says_how_many_were_met():
    results = synthetic(rps_64=550)  # below 0.6x bare, above 50x naive
    text = report.targets_table(report.targets(results))
    assert "**FAIL**" in text and "shipped 550 vs bare 1,000 req/s" in text
    assert text.splitlines()[-1] == f"{len(report.targets(results)) - 3} of 15 targets met"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"commit": "0123456789abcdef", "dirty": False, "changed_files": 0}, "0123456789ab, clean"),
        ({"commit": "0123456789abcdef", "dirty": True, "changed_files": 2}, "DIRTY tree (2 files"),
        ({"commit": None, "dirty": None, "changed_files": None}, "commit unknown"),
    ],
)
def test_the_source_line_names_the_commit_and_a_dirty_tree(source, expected):
    assert expected in report.source_line(source)


def is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_draws_every_variant_into_a_png(tmp_path):
    results = synthetic()
    results["source"]["dirty"] = True
    report.chart(results, tmp_path / "bench.png")
    assert is_png(tmp_path / "bench.png")


def test_the_chart_draws_one_endpoint_and_a_missing_variant(tmp_path):
    results = synthetic()
    results["runs"] = {
        v: {"/predict/stock": r["/predict/stock"]} for v, r in results["runs"].items()
    }
    del results["runs"]["naive"]["/predict/stock"]["1"]  # a cell that did not run
    report.chart(results, tmp_path / "one.png")
    assert is_png(tmp_path / "one.png")


def test_write_leaves_the_json_and_the_chart(tmp_path):
    results = synthetic()
    results["targets"] = report.targets(results)
    report.write(results, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "latest.json").read_text())["runs"] == results["runs"]
    assert is_png(tmp_path / "out" / "bench.png")


def test_a_baseline_that_completed_nothing_is_not_judged():
    results = synthetic()
    results["runs"]["naive"]["/predict/stock"]["64"] = run(0, 0, 0)  # wrk's zeros: 1 s, 64 conns
    checks = {c["target"]: c for c in report.targets(results)}
    (naive,) = [c for n, c in checks.items() if "`/predict/stock` @64" in n and "naive" in n]
    assert naive["pass"] is None and naive["value"] is None
    text = report.targets_table(list(checks.values()))
    assert "not judged" in text and text.endswith("(1 not judged: the run did not measure them)")


def test_a_shipped_run_that_completed_nothing_fails_even_its_latency_ratios():
    results = synthetic()
    results["runs"]["shipped"]["/classify"]["64"] = run(0, 0, 0)
    failed = [n for n, ok in verdicts(results).items() if ok is False]
    assert len(failed) == 3 and all("`/classify` @64" in n for n in failed)  # req/s x2, p99
