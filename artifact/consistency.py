"""Which rows of a daily price table are inconsistent, and why: one rule list for every reader.

Vendor files often carry a few impossible rows (low above high, a close outside the day's
range, a zero volume, a date twice). By default such rows are kept in place, marked, and every
window that touches one is left out (`clean_windows`); strict mode refuses the data at its
first one instead. The same rules decide both, and the same code runs for a CSV read by
`python -m training` and for the rows of `POST /models/{name}/evaluate`, so the two readers
never disagree. Plain numpy: the service, which has no pandas, runs it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

PRICES = ("open", "high", "low", "close")
# A price this far (relative) outside [low, high] still counts as inside: vendors round
# high, low and close separately, so 1234.5600001 against a high of 1234.56 is not an error.
RANGE_SLACK = 1e-6
SHOWN = 5  # dates quoted in the one-line summary
RECORDED = 1000  # dates kept in metadata.json / the scorecard (the count is always whole)
RULE = "every window whose rows or target touch one is left out"


class Inconsistent(ValueError):
    """Strict mode's refusal: the first inconsistent row (its position as given), column, rule."""

    def __init__(self, row: int, column: str, problem: str) -> None:
        super().__init__(f"row {row}, column {column}: {problem}")
        self.row, self.column, self.problem = row, column, problem


@dataclass(frozen=True)
class Found:
    """A table as found: the rows to keep, in date order, and which of them are inconsistent.

    `rows` (m,): positions in the table as given, oldest first, each date once (the first row
    of a repeated date); `bad` (m,): True where that row is inconsistent or its date is out of
    order or repeated; `excluded`: one entry per such row, by date (or row when undated).
    """

    rows: np.ndarray
    bad: np.ndarray
    excluded: list[dict]


def value_problems(columns: Mapping[str, np.ndarray]) -> list[tuple[int, str, str]]:
    """(row position, column, problem) for the first rule each inconsistent row breaks.

    Rules: prices > 0; volume > 0; money >= 0; low <= high; open and close in [low, high].
    `columns`: name -> (n,) values; rules on columns it lacks are skipped.
    """
    found: dict[int, tuple[str, str]] = {}

    def add(mask: np.ndarray, column: str, text) -> None:
        for i in np.flatnonzero(mask):
            found.setdefault(int(i), (column, text(int(i))))

    values = {c: np.asarray(v, np.float64) for c, v in columns.items()}
    for name in (c for c in (*PRICES, "volume") if c in values):
        add(~(values[name] > 0), name, lambda i, v=values[name]: f"{v[i]} must be > 0")
    if "money" in values:
        add(~(values["money"] >= 0), "money", lambda i: f"{values['money'][i]} must be >= 0")
    if "low" in values and "high" in values:
        low, high = values["low"], values["high"]
        add(low > high, "low", lambda i: f"{low[i]} is above high {high[i]}")
        for name in (c for c in ("open", "close") if c in values):
            v = values[name]
            outside = (v < low * (1 - RANGE_SLACK)) | (v > high * (1 + RANGE_SLACK))
            text = lambda i, v=v: f"{v[i]} is outside [low, high] = [{low[i]}, {high[i]}]"  # noqa: E731
            add(outside, name, text)
    return sorted((i, column, text) for i, (column, text) in found.items())


def order_problems(dates: np.ndarray) -> list[tuple[int, str]]:
    """(row position, problem) for rows whose date repeats an earlier one or breaks the table's
    order (its direction: oldest first or newest first, whichever most steps take).

    Where the order breaks, the row before is listed too: of two swapped rows, which one holds
    the wrong date cannot be told.
    """
    when = _datetimes(dates)
    step = np.sign(np.diff(when).astype("int64"))  # (n - 1,)
    direction = 1 if (step >= 0).sum() >= (step < 0).sum() else -1
    _, first = np.unique(when, return_index=True)
    seen = np.ones(len(when), bool)
    seen[first] = False  # every row but the first of its date
    problems = []
    for i in range(1, len(when)):
        if seen[i]:
            problems.append((i, f"{day(when[i])} appears twice"))
        elif step[i - 1] == -direction:
            order = "oldest first" if direction > 0 else "newest first"
            problems.append((i, f"{day(when[i])} after {day(when[i - 1])} breaks the "
                                f"order of the rows ({order})"))  # fmt: skip
            problems.append((i - 1, f"{day(when[i - 1])} is followed by {day(when[i])}, "
                                    "against the order of the rows"))  # fmt: skip
    return problems


def _datetimes(dates: np.ndarray) -> np.ndarray:
    """`dates` as datetime64, in the unit given (a cast to nanoseconds would wrap the years
    outside 1678-2261 around); other types are read as nanoseconds."""
    when = np.asarray(dates)
    return when if when.dtype.kind == "M" else when.astype("datetime64[ns]")


def day(when: np.datetime64) -> str:
    """YYYY-MM-DD."""
    return str(np.datetime64(when, "D"))


def as_found(columns: Mapping[str, np.ndarray], dates: np.ndarray | None,
             strict: bool = False) -> Found:  # fmt: skip
    """The rows to use and the inconsistent ones among them (or Inconsistent when `strict`).

    With dates, rows are put in date order (either direction on input) and a repeated date is
    kept once; a date out of order or repeated marks the row kept for it. The order is checked
    before the values, so strict mode names an order problem first.
    """
    n = len(next(iter(columns.values())))
    entries: list[tuple[int, str, str]] = []  # (position as given, column, problem)
    rows, flagged = np.arange(n), np.zeros(n, bool)
    if dates is not None:
        when = _datetimes(dates)
        order = order_problems(when)
        if strict and order:
            raise Inconsistent(order[0][0], "date", order[0][1])
        entries += [(i, "date", p) for i, p in order]
        rows = np.argsort(when, kind="stable")
        rows = rows[np.concatenate([[True], when[rows][1:] != when[rows][:-1]])] if n else rows
        flagged = np.isin(when[rows], when[[i for i, _ in order]])
    values = value_problems({c: np.asarray(v)[rows] for c, v in columns.items()})
    if strict and values:
        i, column, problem = values[0]
        raise Inconsistent(int(rows[i]), column, problem)
    bad = flagged.copy()
    bad[[i for i, _, _ in values]] = True
    entries += [(int(rows[i]), column, problem) for i, column, problem in values]
    if dates is None:
        excluded = [{"row": i, "column": c, "problem": p} for i, c, p in sorted(entries)]
    else:
        excluded = [{"date": day(when[i]), "column": c, "problem": p} for i, c, p in entries]
        excluded.sort(key=lambda e: e["date"])
    return Found(rows, bad, excluded)


def clean_windows(bad: np.ndarray, window: int) -> np.ndarray:
    """(n_rows - window,) True where window k (rows k..k+window-1) and its target row
    k + window are all free of `bad` (n_rows,) rows: every window with a next row."""
    bad = np.asarray(bad, bool)
    if len(bad) <= window:
        return np.zeros(0, bool)
    return np.convolve(bad.astype(np.int64), np.ones(window + 1, np.int64), "valid") == 0


def record(excluded: list[dict]) -> dict:
    """The metadata/scorecard record: how many rows were left out and (up to RECORDED) which."""
    return {"rows": len(excluded), "rule": RULE, "list": excluded[:RECORDED]}


def summary(source: str, excluded: list[dict]) -> str:
    """One line for stderr: how many rows, the first few dates and why."""
    shown = ", ".join(f"{e.get('date', e.get('row'))} ({e['column']} {e['problem']})"
                      for e in excluded[:SHOWN])  # fmt: skip
    more = f" and {len(excluded) - SHOWN} more" if len(excluded) > SHOWN else ""
    return (f"warning: {source}: {len(excluded)} inconsistent row(s) left out, with every "
            f"window that touches them: {shown}{more} (--strict refuses such a file)")  # fmt: skip
