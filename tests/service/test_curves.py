"""POST /predict/sine and /classify: one window or several, and their validation rules."""

import math

import pytest

from service.core.inputs import MAX_WINDOWS
from service.examples import CLASSIFY_X, SINE_X
from tests.service.checks import assert_error
from tests.service.fake_models import sine_grid


def test_sine_single_window(client):
    body = client.post("/predict/sine", json={"x": SINE_X}).json()
    assert body["model"] == "sine" and body["version"] >= 1
    assert len(body["y"]) == 20 and all(isinstance(v, float) for v in body["y"])


def test_sine_windows_keep_nesting_and_order(client):
    windows = [sine_grid(0), sine_grid(300), sine_grid(7)]
    nested = client.post("/predict/sine", json={"x": windows}).json()["y"]
    single = [client.post("/predict/sine", json={"x": w}).json()["y"] for w in windows]
    assert [len(y) for y in nested] == [20, 20, 20]
    assert nested == [pytest.approx(y, rel=1e-5, abs=1e-6) for y in single]


def test_sine_accepts_max_windows(client):
    response = client.post("/predict/sine", json={"x": [SINE_X] * MAX_WINDOWS})
    assert response.status_code == 200 and len(response.json()["y"]) == MAX_WINDOWS


def test_classify_single_window(client):
    body = client.post("/classify", json={"x": CLASSIFY_X}).json()
    assert body["model"] == "classify" and len(body["classes"]) == 20
    assert all(c in (0, 1) for c in body["classes"])
    for p, c in zip(body["probabilities"], body["classes"], strict=True):
        assert len(p) == 2 and sum(p) == pytest.approx(1, abs=1e-5) and p.index(max(p)) == c


def test_classify_windows_keep_nesting(fake_client):
    # the fake classifier is exact: class 1 where cos(4x) < 0
    windows = [[k / (200 * math.pi) for k in range(s, s + 20)] for s in (0, 150, 400)]
    body = fake_client.post("/classify", json={"x": windows}).json()
    assert [len(c) for c in body["classes"]] == [20, 20, 20]
    assert [len(p) for p in body["probabilities"]] == [20, 20, 20]
    assert body["classes"] == [[int(math.cos(4 * x) < 0) for x in w] for w in windows]


@pytest.mark.parametrize("route", ["/predict/sine", "/classify"])
def test_curve_rejects_wrong_length(client, route):
    response = client.post(route, json={"x": SINE_X[:19]})
    assert_error(response, 422, "x: must hold exactly 20 values (got 19)")


@pytest.mark.parametrize("route", ["/predict/sine", "/classify"])
def test_curve_rejects_wrong_length_window_in_list(client, route):
    response = client.post(route, json={"x": [SINE_X, [*SINE_X, 1.0]]})
    assert_error(response, 422, "x[1]: each window must hold exactly 20 values (got 21)")


def test_sine_rejects_ragged_nesting_number_after_window(client):
    assert_error(client.post("/predict/sine", json={"x": [SINE_X, 1.0]}), 422, "x[1]", "list")


def test_sine_rejects_ragged_nesting_window_after_number(client):
    assert_error(client.post("/predict/sine", json={"x": [1.0, SINE_X]}), 422, "x[1]", "number")


def test_sine_rejects_three_levels_of_nesting(client):
    assert_error(client.post("/predict/sine", json={"x": [[SINE_X]]}), 422, "x[0][0]", "number")


def test_sine_rejects_too_many_windows(client):
    response = client.post("/predict/sine", json={"x": [SINE_X] * (MAX_WINDOWS + 1)})
    assert_error(response, 422, "x:", f"at most {MAX_WINDOWS}")


def test_sine_rejects_empty_x(client):
    assert_error(client.post("/predict/sine", json={"x": []}), 422, "x:", "at least 1")


def test_sine_rejects_empty_window(client):
    assert_error(client.post("/predict/sine", json={"x": [[]]}), 422, "x[0]:", "at least 1")


def test_sine_rejects_missing_x(client):
    assert_error(client.post("/predict/sine", json={}), 422, "x: is required")


def test_sine_rejects_string_number(client):
    response = client.post("/predict/sine", json={"x": ["0.5", *SINE_X[1:]]})
    assert_error(response, 422, "x[0]: must be a number")


def test_sine_rejects_bool(client):
    response = client.post("/predict/sine", json={"x": [*SINE_X[:3], False, *SINE_X[4:]]})
    assert_error(response, 422, "x[3]: must be a number")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_sine_rejects_non_finite_literal(client, literal):
    content = '{"x": [' + ", ".join([literal] + [str(v) for v in SINE_X[1:]]) + "]}"
    response = client.post(
        "/predict/sine", content=content, headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "x[0]: must be a finite number")


@pytest.mark.parametrize("value", [1e308, -1e308])
def test_classify_rejects_1e308(client, value):
    response = client.post("/classify", json={"x": [[*CLASSIFY_X[:5], value, *CLASSIFY_X[6:]]]})
    assert_error(response, 422, "x[0][5]", "3.4e+38")


def test_classify_rejects_unknown_field(client):
    response = client.post("/classify", json={"x": CLASSIFY_X, "threshold": 0.5})
    assert_error(response, 422, "threshold: is not an allowed field")
