"""Which rows of a daily price table are inconsistent, and why: one rule list for every loader.

Vendor files often carry a few impossible rows (low above high, a close outside the day's
range, a zero volume, a date twice). By default such rows are kept in place, marked, and every
window that touches one is left out (training.windows.clean_windows); `--strict` refuses the
file at its first one instead. The same rules decide both, so the two modes never disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRICES = ("open", "high", "low", "close")
# A price this far (relative) outside [low, high] still counts as inside: vendors round
# high, low and close separately, so 1234.5600001 against a high of 1234.56 is not an error.
RANGE_SLACK = 1e-6
SHOWN = 5  # dates quoted in the one-line summary
RECORDED = 1000  # dates kept in metadata.json / the scorecard (the count is always whole)


def value_problems(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(row position, column, problem) for the first rule each inconsistent row breaks.

    Rules: prices > 0; volume > 0; money >= 0; low <= high; open and close in [low, high].
    """
    found: dict[int, tuple[str, str]] = {}

    def add(mask: np.ndarray, column: str, text) -> None:
        for i in np.flatnonzero(mask):
            found.setdefault(int(i), (column, text(int(i))))

    values = {c: frame[c].to_numpy("float64") for c in frame.columns}
    for name in (c for c in (*PRICES, "volume") if c in values):
        add(~(values[name] > 0), name, lambda i, v=values[name]: f"{v[i]} must be > 0")
    if "money" in values:
        add(~(values["money"] >= 0), "money", lambda i: f"{values['money'][i]} must be >= 0")
    low, high = values["low"], values["high"]
    add(low > high, "low", lambda i: f"{low[i]} is above high {high[i]}")
    for name in ("open", "close"):
        v = values[name]
        outside = (v < low * (1 - RANGE_SLACK)) | (v > high * (1 + RANGE_SLACK))
        add(outside, name, lambda i, v=v: f"{v[i]} is outside [low, high] = [{low[i]}, {high[i]}]")
    return sorted((i, column, text) for i, (column, text) in found.items())


def order_problems(dates: pd.DatetimeIndex) -> list[tuple[int, str]]:
    """(row position, problem) for rows whose date repeats an earlier one or breaks the file's
    order (its direction: oldest first or newest first, whichever most steps take).

    Where the order breaks, the row before is listed too: of two swapped rows, which one holds
    the wrong date cannot be told.
    """
    step = np.sign(np.diff(dates.to_numpy()).astype("int64"))  # (n - 1,)
    direction = 1 if (step >= 0).sum() >= (step < 0).sum() else -1
    seen = pd.Index(dates).duplicated(keep="first")
    problems = []
    for i in range(1, len(dates)):
        if seen[i]:
            problems.append((i, f"{dates[i].date()} appears twice"))
        elif step[i - 1] == -direction:
            order = "oldest first" if direction > 0 else "newest first"
            problems.append((i, f"{dates[i].date()} after {dates[i - 1].date()} breaks the "
                                f"file's order ({order})"))  # fmt: skip
            problems.append((i - 1, f"{dates[i - 1].date()} is followed by {dates[i].date()}, "
                                    "against the file's order"))  # fmt: skip
    return problems


def record(excluded: list[dict]) -> dict:
    """The metadata/scorecard record: how many rows were left out and (up to RECORDED) which."""
    return {"rows": len(excluded), "rule": "every window whose rows or target touch one is left "
            "out", "list": excluded[:RECORDED]}  # fmt: skip


def summary(source: str, excluded: list[dict]) -> str:
    """One line for stderr: how many rows, the first few dates and why."""
    shown = ", ".join(f"{e['date']} ({e['column']} {e['problem']})" for e in excluded[:SHOWN])
    more = f" and {len(excluded) - SHOWN} more" if len(excluded) > SHOWN else ""
    return (f"warning: {source}: {len(excluded)} inconsistent row(s) left out, with every "
            f"window that touches them: {shown}{more} (--strict refuses such a file)")  # fmt: skip
