import subprocess
import sys

from training.__main__ import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "training", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_help_documents_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("--csv", "--out", "--epochs", "--seed", "stock", "sine", "classify", "all"):
        assert option in result.stdout


def test_malformed_csv_stops_with_a_message_naming_the_file(tmp_path, capsys):
    path = tmp_path / "prices.csv"
    path.write_text("date,open,high,low,close\n2020-01-01,1,2,0.5,1.5\n")
    assert main(["stock", "--csv", str(path), "--out", str(tmp_path / "m"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "prices.csv: missing column(s) volume" in err
    assert not (tmp_path / "m" / "stock").exists() or not any((tmp_path / "m" / "stock").iterdir())


def test_csv_only_applies_to_stock():
    result = run("sine", "--csv", "x.csv")
    assert result.returncode == 2 and "--csv applies to the stock task only" in result.stderr


def test_evaluate_help_documents_every_option():
    result = run("evaluate", "--help")
    assert result.returncode == 0
    for option in ("--csv", "--series", "--from", "--to", "--x-from", "--x-to", "--windows",
                   "--out", "nasdaq", "sp500"):  # fmt: skip
        assert option in result.stdout


def test_evaluate_takes_csv_or_series_not_both():
    result = run("evaluate", "models/stock/3", "--csv", "x.csv", "--series", "nasdaq")
    assert result.returncode == 2 and "give --csv or --series, not both" in result.stderr


def test_name_must_be_a_model_name_and_needs_one_task(capsys):
    for argv, message in ((["all", "--name", "acme"], "--name names one model"),
                          (["sine", "--name", "../acme"], "--name '../acme'"),
                          (["sine", "--name", "a b"], "--name 'a b'")):  # fmt: skip
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError(f"{argv} was accepted")
        assert message in capsys.readouterr().err


def test_a_name_holding_another_tasks_versions_is_refused_before_training(tmp_path, capsys):
    version = tmp_path / "acme" / "1"
    version.mkdir(parents=True)
    (version / "metadata.json").write_text('{"name": "acme", "config": {"task": "stock"}}')
    assert main(["sine", "--name", "acme", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "holds versions trained on other data: 1 (stock)" in err and "--name" in err
    assert sorted(p.name for p in (tmp_path / "acme").iterdir()) == ["1"]  # nothing added
