"""Write docs/examples/evaluate-stock.json: NASDAQ daily rows 2015-2018 as an evaluate body.

The rows are the series `arch` ships (`arch.data.nasdaq`), the one docs/evaluate.md scores
with the CLI, in the service's row format: `POST /models/stock/evaluate` scores them.
Run: `python scripts/evaluate_request.py` (make evaluate-request).
"""

import json
from pathlib import Path

from arch.data import nasdaq

OUT = Path(__file__).resolve().parents[1] / "docs" / "examples" / "evaluate-stock.json"
FIRST, LAST = "2015-01-01", "2018-12-31"


def main() -> None:
    frame = nasdaq.load().rename(columns=str.lower).loc[FIRST:LAST]
    rows = [
        {"date": day.strftime("%Y-%m-%d"), "open": round(float(r.open), 4),
         "high": round(float(r.high), 4), "low": round(float(r.low), 4),
         "close": round(float(r.close), 4), "volume": float(r.volume)}
        for day, r in zip(frame.index, frame.itertuples(), strict=True)
    ]  # fmt: skip
    OUT.write_text(json.dumps({"rows": rows}, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(rows)} rows, {rows[0]['date']} .. {rows[-1]['date']})")


if __name__ == "__main__":
    main()
