"""Arbitrary JSON never reaches the 500 handler: every answer is 200 or a clean 4xx."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.checks import assert_error

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
windows = st.lists(numbers, max_size=22)
x_values = st.one_of(windows, st.lists(windows, max_size=3), numbers)
rows = st.lists(
    st.dictionaries(
        st.sampled_from(["date", "open", "high", "low", "close", "volume", "money", "odd"]),
        numbers,
    ),
    max_size=22,
)
FUZZ = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def check(response) -> None:
    if response.status_code != 200:
        assert_error(response, 422)


@FUZZ
@given(x=x_values)
def test_sine_fuzz_never_5xx(client, x):
    body = json.dumps({"x": x}, allow_nan=True)
    check(client.post("/predict/sine", content=body, headers={"content-type": "application/json"}))


@FUZZ
@given(rows=rows)
def test_stock_fuzz_never_5xx(client, rows):
    body = json.dumps({"rows": rows}, allow_nan=True)
    check(client.post("/predict/stock", content=body, headers={"content-type": "application/json"}))
