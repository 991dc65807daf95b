"""The request bodies of the benchmark: the OpenAPI examples, and one 275-row stock request."""

import json
import math

from service import examples

ENDPOINTS = {  # path -> body: the shipped examples, each one window of 20
    "/predict/stock": {"rows": examples.STOCK_ROWS},
    "/predict/sine": {"x": examples.SINE_X},
    "/classify": {"x": examples.CLASSIFY_X},
}


def stock_rows(n: int) -> dict:
    """`n` valid daily rows (a smooth synthetic walk near the example's level): n - 19 windows."""
    rows = []
    for i in range(n):
        close = 2700 + 40 * math.sin(i / 9) + i * 0.5
        rows.append(
            {"open": close - 3, "high": close + 8, "low": close - 9, "close": close,
             "volume": 3.5e9 + 1e8 * math.cos(i / 5)}
        )  # fmt: skip
    return {"rows": rows}


def as_json(body: dict) -> str:
    return json.dumps(body, separators=(",", ":"))
