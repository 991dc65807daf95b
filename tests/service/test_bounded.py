"""A body's cost is bounded by its route's limits before it is parsed (issue 10)."""

import json

import pytest

from service.core.inputs import MAX_WINDOWS
from service.examples import SINE_X, STOCK_ROWS
from tests.service.checks import assert_error

JSON = {"content-type": "application/json"}
ONE_VALUE_WINDOWS = b'{"x": [' + b"[0]," * 200_000 + b"[0]]}"  # 0.8 MB, 200,001 windows


@pytest.mark.parametrize("route", ["/predict/sine", "/classify"])
def test_curve_routes_refuse_a_body_of_one_value_windows_before_parsing(client, route):
    response = client.post(route, content=ONE_VALUE_WINDOWS, headers=JSON)
    assert_error(response, 422, f"x: must hold at most {MAX_WINDOWS} windows of 20 values")


def test_stock_refuses_more_rows_than_a_request_holds_before_parsing(client):
    body = json.dumps({"rows": [{}] * 5000}).encode()
    assert_error(client.post("/predict/stock", content=body, headers=JSON), 422, "rows: must hold")


@pytest.mark.parametrize(
    ("route", "rows", "most"),
    [("/predict/stock", 276, 275), ("/models/stock/evaluate", 5001, 5000)],
)
def test_a_refused_count_of_rows_is_said_in_rows(client, route, rows, most):
    body = json.dumps({"rows": [{}] * rows}).encode()
    response = client.post(route, content=body, headers=JSON)
    assert_error(response, 422, f"rows: must hold at most {most} rows, got {rows}")


def test_tf_serving_refuses_a_body_of_one_value_windows_before_parsing(client):
    body = b'{"instances": [' + b"[0]," * 200_000 + b"[0]]}"
    response = client.post("/v1/models/sine:predict", content=body, headers=JSON)
    assert response.status_code == 400 and "must hold at most 256 windows" in response.text


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/predict/sine", {"x": [SINE_X] * MAX_WINDOWS}),
        ("/classify", {"x": [SINE_X] * MAX_WINDOWS}),
        (
            "/predict/stock",
            {
                "rows": [
                    {k: v for k, v in r.items() if k != "date"}
                    for r in (STOCK_ROWS * 14)[: 20 + MAX_WINDOWS - 1]
                ]
            },
        ),
        ("/v1/models/stock:predict", {"instances": [[[3.0, 4.0, 2.0, 3.5, 9.0]] * 20] * 256}),
        ("/v1/models/sine:predict", {"instances": [[[0.5]] * 20] * MAX_WINDOWS}),
    ],
)
def test_the_largest_valid_request_passes_the_bound(client, route, body):
    assert client.post(route, json=body).status_code == 200
