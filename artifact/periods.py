"""Which scored days a stock model was fitted or tuned on: honest scorecards, in plain numpy.

Scoring a model on the series it was trained on mixes days it was fitted on (in-sample) and
days that chose its epoch and interval (validation) with days it never saw (out-of-sample).
A scorecard's headline must be the last kind only. The export's metadata records the series
(`data.sha256`, `data.month_end_closes`) and the last target date of each split; both the
`evaluate` command and `POST /models/{name}/evaluate` label the days with these functions.
"""

from __future__ import annotations

import numpy as np

from artifact import scorecard

IN_SAMPLE, VALIDATION, OUT_OF_SAMPLE = "in_sample", "validation", "out_of_sample"
# Month-end closes are matched to this relative tolerance: a JSON or float32 round trip of a
# close changes it by far less; another vendor's or another index's closes differ by far more.
CLOSE_RTOL = 1e-5


def identify(data: dict, sha256: str | None = None, dates=None, closes=None) -> tuple[bool, str]:
    """(is this the series the model was trained on, why), from the export's `data` section.

    The same file (sha256), or every month-end close the series shares with the training data
    equal to the recorded one (at least one shared). `dates` (n,) datetime64[D], `closes` (n,).
    """
    if sha256 is not None and sha256 == data.get("sha256"):
        return True, f"the same data as training ({data.get('source')}, sha256 equal)"
    anchors = data.get("month_end_closes") or {}
    if dates is None or not anchors:
        why = "its rows carry no dates" if dates is None else "the export records no closes"
        return False, f"cannot be matched to the training data ({why})"
    days = np.asarray(dates, "datetime64[D]").astype(str)
    found = {d: float(c) for d, c in zip(days, np.asarray(closes, np.float64), strict=True)}
    shared = [d for d in anchors if d in found]
    same = [d for d in shared if abs(found[d] - anchors[d]) <= CLOSE_RTOL * abs(anchors[d])]
    if shared and len(same) == len(shared):
        return True, (
            f"the training series ({data.get('source')}): its {len(shared)} month-end closes "
            "in the training data's dates are the recorded ones"
        )
    return False, (
        f"another series than the training data ({data.get('source')}): "
        f"{len(shared) - len(same)} of {len(shared)} shared month-end closes differ"
    )


def labels(dates, splits: dict, trained: bool) -> np.ndarray:
    """(n,) each target day's period by the export's split dates; all out-of-sample when the
    series is not the one trained on."""
    days = np.asarray(dates, "datetime64[D]")
    out = np.full(len(days), OUT_OF_SAMPLE, dtype=object)
    if trained:
        out[days <= np.datetime64(splits["validation"]["last_target"])] = VALIDATION
        out[days <= np.datetime64(splits["train"]["last_target"])] = IN_SAMPLE
    return out


def stock(period: np.ndarray, days: np.ndarray, actual, last_close, forecast, lower, upper,
          drift_score, threshold, level, years, identified: tuple[bool, str]) -> dict:  # fmt: skip
    """scorecard.stock on the out-of-sample days (the headline), with a line per period.

    `identified`: identify()'s answer for the scored series.

    ValueError when fewer than scorecard.MIN_TARGETS days are out-of-sample.
    """
    oos = period == OUT_OF_SAMPLE
    if oos.sum() < scorecard.MIN_TARGETS:
        raise ValueError(f"{int(oos.sum())} of the {len(oos)} days in the range are "
                         f"out-of-sample; at least {scorecard.MIN_TARGETS} are needed (the "
                         "model was fitted or tuned on the others)")  # fmt: skip
    arrays = [np.asarray(v) for v in (actual, last_close, forecast, lower, upper, drift_score)]
    card = scorecard.stock(*(v[oos] for v in arrays), threshold, level,
                           None if years is None else np.asarray(years)[oos])  # fmt: skip
    trained, why = identified
    card["scope"] = {
        "headline": "out-of-sample days only" if trained else "every day: out-of-sample (not "
        "the series the model was trained on)",
        "trained_on_this_series": trained,
        "why": why,
        "periods": {name: _period(days[period == name], *(v[period == name] for v in arrays[:5]))
                    for name in (IN_SAMPLE, VALIDATION, OUT_OF_SAMPLE) if (period == name).any()},
    }  # fmt: skip
    return card


def _period(days, actual, last, forecast, lower, upper) -> dict:
    model, naive = scorecard.mape(actual, forecast), scorecard.mape(actual, last)
    return {"days": len(days), "first_target": str(days[0]), "last_target": str(days[-1]),
            "mape": model, "persistence_mape": naive,
            "mape_ratio": model / naive if naive > 0 else None,
            "interval_coverage": scorecard.coverage(actual, lower, upper)}  # fmt: skip
