"""`python -m training evaluate`: scorecards of tiny exports, and one-line errors for bad input."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from training.__main__ import main
from training.data import load_series


def nasdaq_csv(path, rows=slice(0, 300), layout="plain"):
    """Real NASDAQ rows written as a user's file, in either layout `--csv` reads."""
    frame = load_series("nasdaq").frame.iloc[rows].reset_index()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    if layout == "article":
        frame = frame.rename(columns=str.upper).assign(index_code="IXIC", money=1.0, change=0.0)
    frame.to_csv(path, index=False)
    return path


def scorecard(capsys, *args):
    assert main(["evaluate", *map(str, args)]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.mark.parametrize("layout", ["plain", "article"])
def test_stock_scorecard_from_a_csv_in_either_layout(tiny_exports, tmp_path, capsys, layout):
    csv = nasdaq_csv(tmp_path / f"{layout}.csv", layout=layout)
    out = scorecard(capsys, tiny_exports["stock"], "--csv", csv, "--out", tmp_path / "card")
    card = json.loads((tmp_path / "card.json").read_text())
    assert (tmp_path / "card.png").stat().st_size > 10_000
    assert card["windows"] == 300 - 20 and card["data"]["source"] == str(csv)
    for key in ("mape", "persistence_mape", "mape_ratio", "diebold_mariano",
                "directional_accuracy", "interval", "warned_windows"):  # fmt: skip
        assert key in card
    assert 0 <= card["diebold_mariano"]["p_value"] <= 1
    assert f"MAPE {card['mape']:.3f}%" in out and "Diebold-Mariano" in out


def test_stock_scorecard_on_the_test_period_is_the_metadatas(tiny_exports, tmp_path, capsys):
    """The same graph, the same days: evaluate reproduces the numbers training stored."""
    meta = json.loads((tiny_exports["stock"] / "metadata.json").read_text())
    test = meta["data"]["splits"]["test"]
    scorecard(capsys, tiny_exports["stock"], "--series", "sp500", "--from", test["first_target"],
              "--out", tmp_path / "sp500")  # fmt: skip
    card = json.loads((tmp_path / "sp500.json").read_text())
    assert card["windows"] == meta["metrics"]["test"]["windows"]
    assert card["mape"] == pytest.approx(meta["metrics"]["test"]["mape"], rel=1e-4)
    assert card["persistence_mape"] == pytest.approx(meta["metrics"]["test"]["persistence_mape"])
    coverage, windows = meta["interval"]["test_coverage"], card["windows"]
    assert abs(card["interval"]["coverage"] - coverage) <= 2 / windows


def test_on_its_training_series_the_headline_is_the_test_period(tiny_exports, tmp_path, capsys):
    meta = json.loads((tiny_exports["stock"] / "metadata.json").read_text())
    out = scorecard(capsys, tiny_exports["stock"], "--series", "sp500", "--out", tmp_path / "all")
    card = json.loads((tmp_path / "all.json").read_text())
    test = meta["data"]["splits"]["test"]
    assert card["windows"] == test["windows"] and card["scope"]["trained_on_this_series"]
    assert card["data"]["first_target"] == test["first_target"]
    assert set(card["scope"]["periods"]) == {"in_sample", "validation", "out_of_sample"}
    assert "out-of-sample days only" in out and "in-sample 1999-02-02" in out


def test_a_range_of_training_days_only_is_refused(tiny_exports, capsys):
    args = ["--series", "sp500", "--from", "2005-01-01", "--to", "2005-12-31"]
    assert main(["evaluate", str(tiny_exports["stock"]), *args]) == 2
    assert "0 of the 252 days in the range are out-of-sample" in capsys.readouterr().err


def test_without_out_the_files_go_to_the_evaluations_folder(tiny_exports, tmp_path, capsys,
                                                            monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    scorecard(capsys, tiny_exports["sine"], "--windows", "50")
    version = tiny_exports["sine"].name
    assert sorted(p.name for p in (tmp_path / "evaluations").iterdir()) == [
        f"scorecard-sine-{version}.json", f"scorecard-sine-{version}.png"]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluations"]


def test_date_range_selects_the_scored_days(tiny_exports, tmp_path, capsys):
    scorecard(capsys, tiny_exports["stock"], "--series", "nasdaq", "--from", "2008-01-01",
              "--to", "2008-12-31", "--out", tmp_path / "crash")  # fmt: skip
    card = json.loads((tmp_path / "crash.json").read_text())
    assert card["data"]["first_target"] == "2008-01-02"
    assert card["data"]["last_target"] == "2008-12-31" and card["windows"] == 253


def test_sine_scorecard_warns_only_outside_the_trained_range(tiny_exports, tmp_path, capsys):
    meta = json.loads((tiny_exports["sine"] / "metadata.json").read_text())
    high = meta["bounds"]["x"]["max"]
    scorecard(capsys, tiny_exports["sine"], "--windows", "200", "--out", tmp_path / "inside")
    scorecard(capsys, tiny_exports["sine"], "--x-from", high + 1, "--x-to", high + 20,
              "--windows", "200", "--out", tmp_path / "far")  # fmt: skip
    inside = json.loads((tmp_path / "inside.json").read_text())
    far = json.loads((tmp_path / "far.json").read_text())
    assert inside["warned_windows"] == 0.0 and far["warned_windows"] == 1.0
    assert inside["windows"] == 200 and inside["worst_window"]["mse"] >= inside["mse"]
    assert (tmp_path / "far.png").stat().st_size > 10_000


def test_classify_scorecard_scores_windows_straddling_a_sign_change(tiny_exports, tmp_path,
                                                                    capsys):  # fmt: skip
    out = scorecard(capsys, tiny_exports["classify"], "--windows", "400", "--out", tmp_path / "c")
    card = json.loads((tmp_path / "c.json").read_text())
    assert card["straddling"]["windows"] == 100 and len(card["by_step"]) == 20
    assert "straddling a sign change" in out


def daily(n=300):
    dates = pd.bdate_range("2020-01-01", periods=n)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, n)))
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "open": close, "high": close * 1.01,
                         "low": close * 0.99, "close": close, "volume": 1e6})  # fmt: skip


def _swap(frame):
    frame.iloc[[10, 11]] = frame.iloc[[11, 10]].to_numpy()
    return frame


BAD_FILES = {
    "missing_column": (lambda f: f.drop(columns="volume"), "missing column(s) volume"),
    "too_few_rows": (lambda f: f.iloc[:40], "40 data rows; at least"),
    "empty": (None, "the file is empty"),
}  # fmt: skip
# Refused with --strict; by default their windows are left out and the rows listed.
INCONSISTENT = {
    "unsorted_dates": (_swap, "breaks the order of the rows"),
    "duplicate_date": (lambda f: f.assign(date=f["date"].where(f.index != 5, f["date"][4])),
                       "appears twice"),
    "non_positive_price": (lambda f: f.assign(close=f["close"].where(f.index != 9, -1.0)),
                           "column close, date 2020-01-14: -1.0 must be > 0"),
    "low_above_high": (lambda f: f.assign(low=f["low"].where(f.index != 9, 1e9)),
                       "column low, date 2020-01-14: 1000000000.0 is above high"),
}  # fmt: skip


def bad_file(tmp_path, case):
    change, message = {**BAD_FILES, **INCONSISTENT}[case]
    path = tmp_path / f"{case}.csv"
    if change is None:
        path.write_text("")
    else:
        change(daily()).to_csv(path, index=False)
    return path, message


@pytest.mark.parametrize("case", sorted(BAD_FILES) + [f"{c}-strict" for c in INCONSISTENT])
def test_evaluate_refuses_a_bad_file_in_one_line(tiny_exports, tmp_path, capsys, case):
    path, message = bad_file(tmp_path, case.removesuffix("-strict"))
    strict = ["--strict"] if case.endswith("-strict") else []
    assert main(["evaluate", str(tiny_exports["stock"]), "--csv", str(path), *strict]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: ") and message in err[0]


@pytest.mark.parametrize("case", sorted(INCONSISTENT))
def test_evaluate_leaves_out_the_windows_of_an_inconsistent_row(tiny_exports, tmp_path, capsys,
                                                                case):  # fmt: skip
    path, message = bad_file(tmp_path, case)
    args = [str(tiny_exports["stock"]), "--csv", str(path), "--out", str(tmp_path / "card")]
    assert main(["evaluate", *args]) == 0
    err = capsys.readouterr().err
    rows = 2 if case == "unsorted_dates" else 1  # of two swapped rows, either may be wrong
    assert f"{rows} inconsistent row(s) left out" in err and "--strict" in err
    card = json.loads((tmp_path / "card.json").read_text())
    excluded = card["data"]["excluded"]
    assert excluded["rows"] == rows and message.split(": ")[-1] in str(excluded["list"])
    # 280 windows of 20 rows; the bad row at r is in windows max(0, r - 20) .. r (rows or target)
    left_out = {"unsorted_dates": 12, "duplicate_date": 5 + 1, "non_positive_price": 10,
                "low_above_high": 10}  # duplicate: one row fewer, so one window fewer  # fmt: skip
    assert card["windows"] == 280 - left_out[case]


@pytest.mark.parametrize("case", sorted(BAD_FILES) + [f"{c}-strict" for c in INCONSISTENT])
def test_training_refuses_a_bad_file_in_one_line(tmp_path, capsys, case):
    path, message = bad_file(tmp_path, case.removesuffix("-strict"))
    strict = ["--strict"] if case.endswith("-strict") else []
    args = ["stock", "--csv", str(path), "--out", str(tmp_path / "m"), "--quiet", *strict]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {path}: ") and message in err[-1]
    assert not (tmp_path / "m" / "stock").exists() or not any((tmp_path / "m" / "stock").iterdir())


@pytest.mark.parametrize("command", ["evaluate", "stock"])
def test_an_empty_file_is_exit_code_2_without_a_traceback(tiny_exports, tmp_path, command):
    path = tmp_path / "empty.csv"
    path.write_text("")
    args = [str(tiny_exports["stock"]), "--csv", str(path)] if command == "evaluate" else [
        "--csv", str(path), "--out", str(tmp_path / "m")]  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "training", command, *args],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"error: {path}: the file is empty"


def test_evaluate_refuses_what_it_cannot_score(tiny_exports, tmp_path, capsys):
    csv = nasdaq_csv(tmp_path / "n.csv")
    cases = [
        ([str(tmp_path)], "not an exported version"),
        ([str(tiny_exports["stock"])], "give --csv FILE or --series NAME"),
        ([str(tiny_exports["sine"]), "--csv", str(csv)], "scored on a range of x"),
        ([str(tiny_exports["sine"]), "--x-from", "3", "--x-to", "3.1"], "shorter than one window"),
        ([str(tiny_exports["stock"]), "--series", "nasdaq", "--from", "2030-01-01"],
         "0 next-day closes to score"),
    ]  # fmt: skip
    for args, message in cases:
        assert main(["evaluate", *args]) == 2
        assert message in capsys.readouterr().err


def test_evaluate_refuses_a_bad_date_option():
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "models/stock/2", "--series", "nasdaq", "--from", "last year"])
    assert stopped.value.code == 2
