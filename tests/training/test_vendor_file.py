"""A vendor file as found (tests/training/vendor.py): read, trained on, scored, no hand edit."""

import json

import numpy as np
import pytest

from tests.tiny import train_tiny
from tests.training.vendor import BROKEN, write
from training.__main__ import main
from training.data import DataError, load_csv


@pytest.fixture(scope="module")
def vendor_csv(tmp_path_factory):
    return write(tmp_path_factory.mktemp("vendor") / "ixic.csv")


def test_every_broken_row_is_listed_and_the_rest_kept(vendor_csv):
    data = load_csv(vendor_csv)
    # each broken row once, both rows of the swapped pair, and NASDAQ's two zero-volume days
    assert len(data.excluded) == len(BROKEN) + 1 + 2 == data.bad_rows.sum()
    dates = [e["date"] for e in data.excluded]
    assert dates[-2:] == ["2015-05-12", "2018-01-09"] and max(dates[:-2]) < "2001-01-01"
    assert len(data.frame) == 5031 - 1  # the duplicated date is one row
    assert data.features == ["open", "high", "low", "close", "volume", "money", "change"]
    assert np.isfinite(data.frame.to_numpy()).all()


def test_strict_refuses_it_naming_the_line_of_its_first_broken_date(vendor_csv):
    """The file's order is checked before its values: the swapped pair is found first."""
    with pytest.raises(DataError, match=r"ixic\.csv: column date, line 4533: 2000-12-26 after "
                       r"2000-12-22 breaks the order of the rows \(newest first\)"):  # fmt: skip
        load_csv(vendor_csv, strict=True)


def test_trained_on_it_scores_near_persistence_on_its_last_tenth(vendor_csv, tmp_path, capsys):
    export = train_tiny("stock", tmp_path / "models", csv=vendor_csv)
    meta = json.loads((export / "metadata.json").read_text())
    assert meta["data"]["excluded"]["rows"] == len(BROKEN) + 3
    last_tenth = load_csv(vendor_csv).frame.index[-503].date().isoformat()
    args = [str(export), "--csv", str(vendor_csv), "--from", last_tenth, "--out",
            str(tmp_path / "card")]  # fmt: skip
    assert main(["evaluate", *args]) == 0
    assert "inconsistent row(s) left out" in capsys.readouterr().err
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["scope"]["trained_on_this_series"] and card["windows"] >= 450
    assert card["mape_ratio"] <= 1.03
