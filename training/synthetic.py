"""A synthetic daily OHLCV market with volatility regimes unlike the S&P 500's: clearly not data.

The issue's "other exchange" history is not available offline (only the S&P 500 and NASDAQ
OHLCV series ship with `arch`), so interval coverage "on another market" is measured on this
stand-in: a Markov-switching GARCH(1, 1) with Student-t shocks. Three regimes (calm, normal,
crisis) with unconditional daily volatility 0.4%, 1.2% and 4.5%, abrupt switches between them
every few months (the S&P 500 of 1999-2018 changes regime far less often), a drift, overnight
gaps, intraday ranges about twice as wide as the S&P's relative to the day's move, and a
volume that rises with volatility and jumps about more than an index's does.
Everything is drawn from one seeded generator: the same seed gives the same rows on any machine
(numpy's PCG64 and its distributions are stable across platforms).

`python -m training.synthetic OUT.csv` writes it in the plain `date,open,high,low,close,volume`
layout that `--csv` reads; `--series synthetic` scores it directly.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

SOURCE = "synthetic: Markov-switching GARCH(1,1), seed {seed} (training/synthetic.py)"
ROWS = 5000  # about 20 trading years, like the `arch` series
# Per regime: (unconditional daily volatility, GARCH alpha, GARCH beta, daily drift)
REGIMES = ((0.004, 0.05, 0.90, 0.0004), (0.012, 0.12, 0.85, 0.0002), (0.045, 0.15, 0.80, -0.001))
# Daily transition probabilities (row: from, column: to); mean stays ~ 67, 100, 33 days.
TRANSITIONS = np.array([[0.985, 0.01, 0.005], [0.005, 0.99, 0.005], [0.01, 0.02, 0.97]])
STUDENT_DF = 5  # fat tails, as daily returns have


def regimes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n,) the regime of each day: a Markov chain started in the normal regime."""
    state, path = 1, np.empty(n, np.int64)
    draws = rng.uniform(size=n)
    cumulative = TRANSITIONS.cumsum(axis=1)
    for t in range(n):
        path[t] = state
        state = int(np.searchsorted(cumulative[state], draws[t]))
    return path


def returns(rng: np.random.Generator, path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(daily log return (n,), conditional volatility (n,)) of the regime-switching GARCH."""
    n = len(path)
    shocks = rng.standard_t(STUDENT_DF, size=n) / np.sqrt(STUDENT_DF / (STUDENT_DF - 2))
    out, sigma = np.empty(n), np.empty(n)
    variance, previous = REGIMES[path[0]][0] ** 2, 0.0
    for t in range(n):
        vol, alpha, beta, drift = REGIMES[path[t]]
        omega = vol**2 * (1 - alpha - beta)
        variance = omega + alpha * previous**2 + beta * variance
        sigma[t] = np.sqrt(variance)
        previous = sigma[t] * shocks[t]
        out[t] = drift + previous
    return out, sigma


def frame(seed: int = 0, rows: int = ROWS) -> pd.DataFrame:
    """The daily rows, oldest first, indexed by business day from 2000-01-03."""
    rng = np.random.default_rng([seed, 2024])
    path = regimes(rng, rows)
    r, sigma = returns(rng, path)
    close = 1000.0 * np.exp(np.cumsum(r))  # (n,)
    previous = np.r_[1000.0, close[:-1]]
    gap = rng.uniform(0.1, 0.4, rows)  # share of the day's move that happens overnight
    open_ = previous * np.exp(gap * r + rng.normal(0, 0.1, rows) * sigma)
    reach = np.abs(rng.normal(0, 1.2, (2, rows))) * sigma  # intraday excursions beyond the body
    high = np.maximum(open_, close) * np.exp(reach[0])
    low = np.minimum(open_, close) * np.exp(-reach[1])
    volume = np.round(2e8 * np.exp(rng.normal(0, 0.35, rows)) * (sigma / 0.01) ** 0.6)
    dates = pd.bdate_range("2000-01-03", periods=rows, name="date")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": volume}, index=dates)  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m training.synthetic OUT.csv", file=sys.stderr)
        return 2
    frame().to_csv(argv[0], date_format="%Y-%m-%d", float_format="%.6f")
    print(f"wrote {argv[0]}: {SOURCE.format(seed=0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
