"""The request bodies of the benchmark: the OpenAPI examples, the stock example window as an
Open Inference Protocol request, and one 275-row stock request."""

import json
import math

from service import examples

FEATURES = ("open", "high", "low", "close", "volume")  # the stock model's input order
# the stock example window as tritonclient sends it in JSON (flat data), asking for what the
# native answer holds: the prediction, its interval and the warnings
V2_STOCK = {
    "inputs": [{"name": "window", "shape": [1, 20, 5], "datatype": "FP32",
                "data": [row[f] for row in examples.STOCK_ROWS for f in FEATURES]}],
    "outputs": [{"name": n} for n in ("next_close", "lower", "upper", "warnings")],
}  # fmt: skip
ENDPOINTS = {  # path -> body: the shipped examples, each one window of 20
    "/predict/stock": {"rows": examples.STOCK_ROWS},
    "/predict/sine": {"x": examples.SINE_X},
    "/classify": {"x": examples.CLASSIFY_X},
    "/v2/models/stock/infer": V2_STOCK,
}
NATIVE = ("/predict/stock", "/predict/sine", "/classify")  # all that the naive server speaks


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
