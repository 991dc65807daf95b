"""A vendor's file as found: NASDAQ 1999-2018 (from `arch`) in the article's column layout, with
the kind of broken rows real vendor files carry, injected in its first years.

`python -m tests.training.vendor OUT.csv` writes it (the figures in docs/training.md).
"""

import sys
from pathlib import Path

from training.data import load_series

# (row, what is broken): 16 rows, as in the file the issue describes, plus NASDAQ's own two
# zero-volume days (2015-05-12, 2018-01-09) that `arch` ships.
BROKEN = {
    **{row: "low_above_high" for row in (30, 95, 160, 233, 301, 377)},
    **{row: "close_above_high" for row in (48, 129, 210, 288)},
    **{row: "open_below_low" for row in (66, 350)},
    **{row: "zero_volume" for row in (115,)},
    **{row: "negative_price" for row in (402,)},
    **{row: "duplicate_date" for row in (450,)},
    **{row: "swapped_dates" for row in (500,)},
}


def vendor_frame():
    """The article's columns, newest first as many vendors write them, with BROKEN applied."""
    frame = load_series("nasdaq").frame.reset_index()
    frame["money"] = frame["volume"] * (frame["high"] + frame["low"]) / 2
    frame["change"] = frame["close"].pct_change().fillna(0.0)
    frame["index_code"] = "IXIC"
    for row, kind in BROKEN.items():
        break_row(frame, row, kind)
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    columns = ["index_code", "date", "open", "close", "low", "high", "volume", "money", "change"]
    return frame[columns].iloc[::-1]


def break_row(frame, row: int, kind: str) -> None:
    """Break `frame`'s row `row` (positional; a `date` column of Timestamps) as `kind` says."""
    at = frame.index[row]
    if kind == "low_above_high":
        frame.loc[at, ["low", "high"]] = frame.loc[at, ["high", "low"]].to_numpy()
    elif kind == "close_above_high":
        frame.loc[at, "close"] = frame.loc[at, "high"] * 1.02
    elif kind == "open_below_low":
        frame.loc[at, "open"] = frame.loc[at, "low"] * 0.97
    elif kind == "zero_volume":
        frame.loc[at, "volume"] = 0.0
    elif kind == "negative_price":
        frame.loc[at, "close"] = -frame.loc[at, "close"]
    elif kind == "duplicate_date":
        frame.loc[at, "date"] = frame.loc[frame.index[row - 1], "date"]
    elif kind == "swapped_dates":
        before = frame.index[row - 1]
        frame.loc[[before, at], "date"] = frame.loc[[at, before], "date"].to_numpy()


def write(path: Path) -> Path:
    vendor_frame().to_csv(path, index=False, float_format="%.6f")
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1])))
    sys.exit(0)
