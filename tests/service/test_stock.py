"""POST /predict/stock: shapes, sliding-window alignment and one test per validation rule."""

import copy
import datetime as dt
import json

import pytest

from service.examples import STOCK_ROWS
from tests.service.checks import assert_error


def make_rows(n: int) -> list[dict]:
    """n valid, dated rows with distinct closes (the example's pattern, shifted per cycle)."""
    start = dt.date(2018, 1, 1)
    rows = []
    for i in range(n):
        row = copy.deepcopy(STOCK_ROWS[i % len(STOCK_ROWS)])
        row["close"] = round(row["close"] + i * 0.25, 2)
        row["high"], row["low"] = max(row["high"], row["close"]), min(row["low"], row["close"])
        row["date"] = str(start + dt.timedelta(days=i))
        rows.append(row)
    return rows


JSON = {"content-type": "application/json"}


def post(client, rows):
    return client.post("/predict/stock", json={"rows": rows})


def test_stock_example_answers(client):
    body = post(client, STOCK_ROWS).json()
    assert body["model"] == "stock" and body["version"] >= 1
    assert len(body["predictions"]) == 1 and body["next_close"] == body["predictions"][-1]


def test_stock_sliding_windows_count(client):
    body = post(client, make_rows(30)).json()
    assert len(body["predictions"]) == 30 - 20 + 1


def test_stock_windows_equal_separate_requests(client):
    rows = make_rows(21)
    together = post(client, rows).json()["predictions"]
    first, second = (post(client, rows[k : k + 20]).json()["next_close"] for k in (0, 1))
    assert together == pytest.approx([first, second], rel=1e-6)


def test_stock_prediction_k_follows_row_window_minus_1_plus_k(fake_client):
    # the fake predicts the window's last close: predictions[k] is row 19+k's close
    rows = make_rows(25)
    body = post(fake_client, rows).json()
    expected = [rows[19 + k]["close"] for k in range(6)]
    assert body["predictions"] == pytest.approx(expected, rel=1e-6)
    assert body["next_close"] == pytest.approx(rows[-1]["close"], rel=1e-6)


def test_stock_accepts_max_rows(client):
    body = post(client, make_rows(20 + 255)).json()
    assert len(body["predictions"]) == 256


def test_stock_accepts_rows_without_dates_and_int_numbers(client):
    rows = [{k: round(v) for k, v in r.items() if k != "date"} for r in STOCK_ROWS]
    assert post(client, rows).status_code == 200


def with_change(index: int, **changes) -> list[dict]:
    rows = make_rows(20)
    rows[index].update(changes)
    return rows


@pytest.mark.parametrize("value", [0, -1.5])
def test_stock_rejects_non_positive_price(client, value):
    assert_error(post(client, with_change(3, close=value)), 422, "rows[3].close", "greater than 0")


def post_literal(client, index: int, field: str, literal: str):
    """Post 20 rows whose rows[index][field] is a raw JSON literal such as NaN."""
    rows = make_rows(20)
    rows[index][field] = "__literal__"
    content = json.dumps({"rows": rows}).replace('"__literal__"', literal)
    return client.post("/predict/stock", content=content, headers=JSON)


def test_stock_rejects_non_finite_price(client):
    assert_error(post_literal(client, 2, "open", "Infinity"), 422, "rows[2].open", "finite")


def test_stock_rejects_nan_literal(client):
    assert_error(post_literal(client, 0, "volume", "NaN"), 422, "rows[0].volume", "finite")


def test_stock_rejects_negative_infinity_literal(client):
    assert_error(post_literal(client, 5, "change", "-Infinity"), 422, "rows[5].change", "finite")


def test_stock_rejects_infinity_string(client):
    assert_error(post(client, with_change(2, close="Infinity")), 422, "rows[2].close", "number")


def test_stock_rejects_string_number(client):
    assert_error(post(client, with_change(4, open="2717.58")), 422, "rows[4].open", "number")


def test_stock_rejects_bool(client):
    assert_error(post(client, with_change(4, volume=True)), 422, "rows[4].volume", "number")


def test_stock_rejects_1e308(client):
    assert_error(post(client, with_change(6, high=1e308)), 422, "rows[6].high", "less than")


def test_stock_rejects_negative_volume(client):
    assert_error(post(client, with_change(1, volume=-1)), 422, "rows[1].volume", "greater than")


def test_stock_rejects_negative_money(client):
    assert_error(post(client, with_change(1, money=-1.0)), 422, "rows[1].money", "greater than")


def test_stock_rejects_unknown_field(client):
    response = post(client, with_change(2, adj_close=1.0))
    assert_error(response, 422, "rows[2].adj_close", "not an allowed field")


def test_stock_rejects_unknown_top_level_field(client):
    response = client.post("/predict/stock", json={"rows": make_rows(20), "extra": 1})
    assert_error(response, 422, "extra", "not an allowed field")


def test_stock_rejects_missing_feature(client):
    rows = make_rows(20)
    del rows[7]["volume"]
    assert_error(post(client, rows), 422, "rows[7].volume", "required")


def test_stock_rejects_too_few_rows(client):
    assert_error(post(client, make_rows(19)), 422, "rows:", "between 20 and 275 rows (got 19)")


def test_stock_rejects_too_many_rows(client):
    assert_error(post(client, make_rows(276)), 422, "rows:", "at most 275 rows")


def test_stock_rejects_empty_rows(client):
    assert_error(post(client, []), 422, "rows:", "at least 1")


def test_stock_rejects_dates_out_of_order(client):
    rows = make_rows(20)
    rows[8]["date"], rows[9]["date"] = rows[9]["date"], rows[8]["date"]
    assert_error(post(client, rows), 422, "rows:", "strictly increasing", "rows[9].date")


def test_stock_rejects_repeated_date(client):
    rows = make_rows(20)
    rows[9]["date"] = rows[8]["date"]
    assert_error(post(client, rows), 422, "strictly increasing")


def test_stock_rejects_dates_on_some_rows_only(client):
    rows = make_rows(20)
    del rows[4]["date"]
    assert_error(post(client, rows), 422, "every row or on none", "rows[4]")


def test_stock_rejects_bad_date(client):
    assert_error(post(client, with_change(0, date="2018-13-01")), 422, "rows[0].date")


def test_stock_rejects_low_above_high(client):
    assert_error(post(client, with_change(3, low=3000.0, high=2900.0)), 422, "rows[3].low", "high")


def test_stock_rejects_rows_not_a_list(client):
    response = client.post("/predict/stock", json={"rows": {"open": 1}})
    assert_error(response, 422, "rows:", "list")


def test_stock_reports_every_error_in_detail(client):
    rows = make_rows(20)
    rows[0]["close"], rows[1]["open"] = -1, "x"
    body = assert_error(post(client, rows), 422, "rows[0].close", "(and 1 more)")
    assert [d["loc"] for d in body["detail"]] == [
        ["body", "rows", 0, "close"],
        ["body", "rows", 1, "open"],
    ]
