"""Every request the docs show is a file, and every answer shown is the live one.

The pairs are the `<!-- example: ... -->` markers that `make examples` (scripts/examples.py)
fills in; here each request is sent again to the app on the committed models and the shown
answer must match what comes back: floats within the script's REL_TOL (1e-4 relative), as
they are shown rounded to 6 significant digits and another CPU computes the last digits of
some figures otherwise; integers, strings and keys exactly. When a model or an answer
changes on purpose, `make examples` rewrites the pages.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("doc_examples", ROOT / "scripts" / "examples.py")
docs = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = docs  # its dataclasses look their module up
_spec.loader.exec_module(docs)

EXAMPLES = docs.examples()
OUTPUTS = docs.outputs()
FIX = "rerun `make examples` if the change is meant"


@pytest.fixture(scope="module")
def answered() -> tuple[dict, dict]:
    """Every example's (status, body) from the app, one app per set of settings, and the
    versions served."""
    return docs.answers(EXAMPLES)


@pytest.fixture(scope="module")
def live(answered) -> dict:
    return answered[0]


def test_the_docs_show_examples_of_every_kind():
    methods = {(e.method, e.file is not None) for e in EXAMPLES}
    assert {("GET", False), ("POST", True)} <= methods
    assert any(e.env for e in EXAMPLES) and OUTPUTS


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.where)
def test_shown_answer_is_the_live_one(example, live):
    status, body = live[example]
    console, answer = docs.shown_pair(example)
    assert console == example.curl(status), f"{example.where}: the request or status; {FIX}"
    assert answer, f"{example.where}: no answer shown; run `make examples`"
    problems = docs.differences(json.loads(answer), body)
    assert not problems, f"{example.where}: {FIX}:\n" + "\n".join(problems)


@pytest.mark.parametrize("output", OUTPUTS, ids=lambda o: o.where)
def test_shown_output_is_what_the_command_prints(output):
    assert output.shown() == output.run(), f"{output.where}: `{output.command}`; {FIX}"


def test_chart_links_point_at_the_served_versions(answered):
    versions = answered[1]
    for doc in docs.documents():
        for match in docs.CHART.finditer(doc.read_text()):
            where = f"{doc.relative_to(ROOT)}: {match[0]}"
            assert int(match["version"]) == versions[match["name"]], f"{where}; {FIX}"
            target = match[0][2:-1]  # the path inside ](...)
            assert (doc.parent / target).is_file(), f"{where}: no such file"


def test_every_request_file_is_shown_and_every_shown_file_exists():
    files = {str(p.relative_to(ROOT)) for p in (ROOT / "docs" / "examples").rglob("*.json")}
    shown = {e.file for e in EXAMPLES if e.file}
    assert shown <= files
    assert files - shown == set(), "request files no page shows"


def test_every_json_block_in_the_docs_is_a_marked_answer():
    """A ```json block outside a marked pair would be an answer nothing checks (artifact.md
    shows the metadata's schema, not an answer)."""
    for doc in docs.documents():
        if doc.name == "artifact.md":
            continue
        lines = doc.read_text().splitlines()
        answers = {docs.pair_at(lines, e.line)[1][0] for e in EXAMPLES if e.doc == doc}
        blocks = {i for i, line in enumerate(lines) if line.strip() == "```json"}
        loose = sorted(i + 1 for i in blocks - answers)
        assert not loose, f"{doc.relative_to(ROOT)}: unmarked json blocks at lines {loose}"


# ---------------------------------------------------------------- the comparison itself

ANSWER = {
    "model": "sine",
    "version": 1,
    "y": [0.5, -0.25, 0.125, 1e-9, 3.0],
    "intervals": [{"lower": 0.4, "upper": 0.6, "level": 0.9}],
    "warnings": [],
}


def test_a_changed_number_is_a_difference():
    shown = json.loads(json.dumps(ANSWER))
    shown["y"][1] = -0.2501
    assert docs.differences(shown, ANSWER) == ["answer.y[1]: -0.2501 shown, -0.25 live"]


def test_last_bit_differences_of_floats_are_not():
    shown = json.loads(json.dumps(ANSWER))
    shown["y"][0] = 0.5 * (1 + 3e-7)
    shown["y"][3] = 4.440892098500626e-08  # near zero, within the absolute tolerance
    assert docs.differences(shown, ANSWER) == []


def test_floats_are_shown_to_six_significant_digits_and_match_their_live_value():
    live = {"next_close": 2735.642333984375, "p": 1.4630000322313208e-08, "n": 755, "ok": True}
    shown = json.loads(docs.render(docs.rounded(live)))
    assert shown == {"next_close": 2735.64, "p": 1.463e-08, "n": 755, "ok": True}
    assert docs.differences(shown, live) == []


def test_a_float_off_by_more_than_the_tolerance_and_any_changed_integer_are_differences():
    live = {"next_close": 2735.642333984375, "statistic": 0.111395, "n": 100_000}
    assert docs.differences({**live, "next_close": 2736.0}, live)  # 1.3e-4 relative
    assert docs.differences({**live, "statistic": 0.1114}, live) == []  # 4.5e-5: another CPU
    assert docs.differences({**live, "statistic": 0.1116}, live)
    assert docs.differences({**live, "n": 100_001}, live)  # integers are equal or differ


def test_a_rerun_keeps_an_answer_within_the_tolerance_and_rewrites_one_beyond_it(tmp_path):
    doc = tmp_path / "page.md"
    example = docs.Example(doc, 0, "GET", "/x")
    shown = {"statistic": 0.111395, "version": 4}
    page = ["<!-- example: GET /x -->", *docs.block("console", example.curl(200)),
            *docs.block("json", docs.render(shown)), "after"]  # fmt: skip
    doc.write_text("\n".join(page) + "\n")
    other_cpu = {"statistic": 0.11139012, "version": 4}
    assert not docs.rewrite(doc, {example: (200, other_cpu)}, {}, {})
    assert doc.read_text() == "\n".join(page) + "\n"
    cut = docs.Example(doc, 0, "GET", "/x", keys=("statistic",))  # the marker now shows less
    assert docs.rewrite(doc, {cut: (200, other_cpu)}, {}, {})
    assert docs.shown_pair(cut)[1] == docs.render({"statistic": 0.11139, "...": "..."})
    retrained = {"statistic": 0.0931, "version": 5}
    assert docs.rewrite(doc, {example: (200, retrained)}, {}, {})
    assert docs.shown_pair(example)[1] == docs.render(retrained)


def test_types_lengths_and_keys_must_agree():
    assert docs.differences({**ANSWER, "version": True}, ANSWER)
    assert docs.differences({**ANSWER, "version": "1"}, ANSWER)
    assert docs.differences({**ANSWER, "y": ANSWER["y"][:-1]}, ANSWER)
    assert docs.differences({k: v for k, v in ANSWER.items() if k != "warnings"}, ANSWER)
    assert docs.differences({**ANSWER, "extra": 1}, ANSWER)
    assert docs.differences({**ANSWER, "model": "stock"}, ANSWER)


def test_an_elided_array_matches_only_on_its_head_and_tail():
    assert docs.differences({**ANSWER, "y": [0.5, "...", 3.0]}, ANSWER) == []
    assert docs.differences({**ANSWER, "y": [0.5, -0.25, "...", 3.0]}, ANSWER) == []
    assert docs.differences({**ANSWER, "y": [0.5, "...", 2.0]}, ANSWER)
    assert docs.differences({**ANSWER, "y": [-0.25, "...", 3.0]}, ANSWER)
    assert docs.differences({**ANSWER, "y": [0.5, 1, 2, 3, 4, "...", 3.0]}, ANSWER)


def test_an_object_with_an_elided_key_shows_a_subset():
    assert docs.differences({"model": "sine", "...": "..."}, ANSWER) == []
    assert docs.differences({"model": "stock", "...": "..."}, ANSWER)
    assert docs.differences({"nope": 1, "...": "..."}, ANSWER)


def test_what_the_script_shows_parses_and_matches_the_answer_it_came_from():
    big = {**ANSWER, "y": [i / 7 for i in range(40)], "nested": {"a": {"b": 1, "c": 2}, "d": 3}}
    for keep, keys in [(None, ()), (3, ()), (2, ("model", "y", "nested.a.b"))]:
        shown = json.loads(docs.render(docs.elide(big, keep, keys)))
        assert docs.differences(shown, big) == []
    cut = json.loads(docs.render(docs.elide(big, 2, ("model", "nested.a.b"))))
    assert cut == {"model": "sine", "nested": {"a": {"b": 1, "...": "..."}, "...": "..."},
                   "...": "..."}  # fmt: skip
