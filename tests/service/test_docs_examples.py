"""The request files the README's curl examples send (docs/examples/) work as documented."""

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def post(client, route, name):
    return client.post(route, json=json.loads((EXAMPLES / name).read_text()))


@pytest.mark.parametrize(
    ("route", "name"),
    [
        ("/predict/stock", "stock.json"),
        ("/predict/sine", "sine.json"),
        ("/classify", "classify.json"),
    ],
)
def test_example_in_range_gets_an_answer_and_no_warning(committed_client, route, name):
    response = post(committed_client, route, name)
    assert response.status_code == 200 and response.json()["warnings"] == []


def test_far_sine_window_is_answered_with_a_warning_for_it_only(committed_client):
    body = post(committed_client, "/predict/sine", "sine-far.json").json()
    assert [w["window"] for w in body["warnings"]] == [1]


def test_stock_at_ten_times_the_price_level_scales_the_forecast(committed_client):
    base = post(committed_client, "/predict/stock", "stock.json").json()
    tenfold = post(committed_client, "/predict/stock", "stock-10x.json").json()
    assert tenfold["warnings"] == []
    assert tenfold["next_close"] == pytest.approx(10 * base["next_close"], rel=1e-3)


def test_tf_serving_instances_file_matches_the_native_answer(committed_client):
    native = post(committed_client, "/predict/stock", "stock.json").json()
    served = committed_client.post(
        "/v1/models/stock:predict", content=(EXAMPLES / "instances.json").read_bytes()
    ).json()
    [prediction] = served["predictions"]  # every named output of the signature
    assert prediction["next_close"] == [pytest.approx(native["next_close"], rel=1e-6)]
    assert [prediction["lower"][0], prediction["upper"][0]] == pytest.approx(
        [native["intervals"][-1]["lower"], native["intervals"][-1]["upper"]], rel=1e-6
    )
