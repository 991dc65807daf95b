"""Named bad-input cases the route tests did not already cover, one test per case."""

import json

import pytest

from service.examples import CLASSIFY_X, SINE_X
from tests.service.checks import assert_error
from tests.service.test_stock import make_rows, post, with_change

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("text", ["Infinity", "-Infinity", "NaN", "inf", "-inf"])
def test_stock_rejects_non_finite_strings(client, text):
    assert_error(post(client, with_change(3, low=text)), 422, "rows[3].low", "must be a number")


@pytest.mark.parametrize("text", ["Infinity", "-Infinity", "NaN"])
def test_sine_rejects_non_finite_strings(client, text):
    response = client.post("/predict/sine", json={"x": [text, *SINE_X[1:]]})
    assert_error(response, 422, "x[0]: must be a number")


def test_stock_rejects_minus_1e308(client):
    response = post(client, with_change(6, change=-1e308))
    assert_error(response, 422, "rows[6].change", "greater than or equal to -3.4e+38")


def test_sine_rejects_1e308(client):
    response = client.post("/predict/sine", json={"x": [*SINE_X[:19], 1e308]})
    assert_error(response, 422, "x[19]", "less than or equal to 3.4e+38")


@pytest.mark.parametrize("field", ["open", "high", "low"])
def test_stock_rejects_zero_price(client, field):
    rows = with_change(2, **{field: 0})
    assert_error(post(client, rows), 422, f"rows[2].{field}", "greater than 0")


def test_stock_rejects_negative_open(client):
    assert_error(post(client, with_change(0, open=-2717.58)), 422, "rows[0].open", "greater than 0")


def test_stock_accepts_zero_volume(client):
    # a day without trades is real data; the model takes log((v + 1) / (mean + 1))
    assert post(client, with_change(5, volume=0)).status_code == 200


def test_stock_rejects_volume_as_string(client):
    assert_error(post(client, with_change(5, volume="1e9")), 422, "rows[5].volume", "number")


def test_stock_rejects_null_price(client):
    assert_error(post(client, with_change(1, close=None)), 422, "rows[1].close", "number")


def test_stock_rejects_row_as_list(client):
    rows = make_rows(20)
    rows[0] = list(rows[0].values())
    assert_error(post(client, rows), 422, "rows[0]", "JSON object")


def test_stock_rejects_nested_rows(client):
    assert_error(post(client, [make_rows(20)]), 422, "rows[0]", "JSON object")


def test_classify_rejects_ragged_windows(client):
    response = client.post("/classify", json={"x": [CLASSIFY_X, CLASSIFY_X[:10]]})
    assert_error(response, 422, "x[1]: each window must hold exactly 20 values (got 10)")


def test_classify_rejects_one_value_short(client):
    assert_error(client.post("/classify", json={"x": CLASSIFY_X[1:]}), 422, "(got 19)")


def test_classify_rejects_bool_window(client):
    assert_error(client.post("/classify", json={"x": True}), 422, "x")


def test_sine_rejects_x_as_object(client):
    response = client.post("/predict/sine", json={"x": {"0": 0.5}})
    assert_error(response, 422, "x")


def test_stock_rejects_truncated_json(client):
    content = json.dumps({"rows": make_rows(20)})[:-7]
    response = client.post("/predict/stock", content=content, headers=JSON)
    assert_error(response, 422, "body: is not valid JSON")


def test_stock_rejects_empty_body(client):
    assert_error(client.post("/predict/stock", content=b"", headers=JSON), 422, "body")


def test_stock_rejects_unpaired_surrogate_escape(client):
    # valid UTF-8 bytes, but the \ud800 escape is no character: the JSON itself is refused
    content = json.dumps({"rows": with_change(0, date="\ud800")})
    response = client.post("/predict/stock", content=content, headers=JSON)
    assert_error(response, 422, "body: is not valid JSON", "hex escape")


@pytest.mark.parametrize("literal", ["NaN", "1e20", "true", '"2018-02-30"'])
def test_stock_rejects_bad_date_without_echoing_it(client, literal):
    rows = with_change(0, date="__date__")
    content = json.dumps({"rows": rows}).replace('"__date__"', literal)
    response = client.post("/predict/stock", content=content, headers=JSON)
    assert_error(response, 422, "rows[0].date: must be a date, YYYY-MM-DD")


def test_deeply_nested_body_is_422_not_a_crash(client):
    body = '{"x": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post("/classify", content=body, headers=JSON)
    # refused by the route's bound on '[' before the parser's own nesting limit is reached
    assert_error(response, 422, "x: must hold at most 256 windows")


def test_stock_rejects_a_price_that_vanishes_in_float32(client):
    rows = with_change(4, open=1e-320)
    assert_error(post(client, rows), 422, "rows[4].open", "must be at least 1.2e-38")


def test_stock_rejects_prices_whose_ratio_overflows_float32(client):
    rows = make_rows(20)
    # every other price is about 1e39 times the last close: beyond float32's range
    rows[-1].update(open=2e-36, high=2e-36, low=2e-36, close=2e-36)
    response = post(client, rows)
    assert_error(response, 422, "rows[0].open", "times the close of the window's last row")


def test_stock_volume_near_float32_max_is_422_not_infinite_json(committed_client):
    """A volume the schema allows whose window mean overflows float32 in the graph: the
    drift outputs are not finite, so the answer would not be JSON; it is refused instead."""
    rows = make_rows(20)
    rows[5]["volume"] = rows[6]["volume"] = 3.3e38  # their sum overflows float32
    response = post(committed_client, rows)
    assert_error(response, 422, "outside what the model can handle")
    assert "Infinity" not in response.text
