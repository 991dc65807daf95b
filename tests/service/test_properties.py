"""Properties of the request models and the windowing, over generated inputs (Hypothesis)."""

import contextlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.api.native.schemas import SineRequest, StockRequest
from service.core import inputs
from service.core.errors import InputError
from service.core.inputs import F32_MAX, MAX_WINDOWS
from service.protocols import native
from tests.service.fake_models import STOCK_RULES
from tests.service.in_memory import spec_for

FEATURES = ["open", "high", "low", "close", "volume"]
PROPS = settings(max_examples=60, deadline=None, database=None)

prices = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)


@st.composite
def valid_rows(draw, min_size=1, max_size=40):
    n = draw(st.integers(min_size, max_size))
    rows = []
    for _ in range(n):
        low, high = sorted(draw(st.tuples(prices, prices)))
        rows.append({"open": draw(prices), "high": high, "low": low,
                     "close": draw(prices), "volume": draw(st.integers(0, 10**12))})  # fmt: skip
    return rows


@PROPS
@given(rows=valid_rows())
def test_valid_rows_always_validate_and_keep_their_values(rows):
    request = StockRequest.model_validate({"rows": rows})
    assert [r.close for r in request.rows] == [r["close"] for r in rows]


@PROPS
@given(
    rows=valid_rows(max_size=3),
    index=st.integers(0, 2),
    field=st.sampled_from(FEATURES),
    bad=st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 1e39, "1", True, None]),
)
def test_one_bad_value_is_a_validation_error_naming_it(rows, index, field, bad):
    index %= len(rows)
    rows[index][field] = bad
    with pytest.raises(ValidationError) as caught:
        StockRequest.model_validate({"rows": rows})
    assert ("rows", index, field) in {e["loc"][:3] for e in caught.value.errors()}


@PROPS
@given(body=json_values)
def test_any_json_is_accepted_or_a_validation_error(body):
    for model in (StockRequest, SineRequest):
        with contextlib.suppress(ValidationError):  # the only failure allowed; else a 500
            model.model_validate(body)


@PROPS
@given(rows=valid_rows(max_size=30), window=st.integers(1, 12))
def test_stock_batch_is_every_sliding_window_in_feature_order(rows, window):
    request = StockRequest.model_validate({"rows": rows})
    spec = spec_for(FEATURES, window, STOCK_RULES)
    if not window <= len(rows) <= window + MAX_WINDOWS - 1:
        with pytest.raises(InputError):
            inputs.stock_table(spec, native.table(request.rows, spec.features))
        return
    batch = inputs.stock_table(spec, native.table(request.rows, spec.features))
    table = np.array([[r[f] for f in FEATURES] for r in rows], dtype=np.float32)
    assert batch.shape == (len(rows) - window + 1, window, len(FEATURES))
    for k in range(len(batch)):
        np.testing.assert_array_equal(batch[k], table[k : k + window])


finite = st.floats(min_value=-F32_MAX, max_value=F32_MAX, allow_nan=False)


@PROPS
@given(windows=st.lists(st.lists(finite, min_size=1, max_size=6), min_size=1, max_size=5),
       window=st.integers(1, 6), nested=st.booleans())  # fmt: skip
def test_curve_batch_keeps_values_or_names_the_bad_window(windows, window, nested):
    spec = spec_for(["x"], window)
    x = SineRequest.model_validate({"x": windows if nested else windows[0]}).x
    was_nested = isinstance(x[0], list)  # what the route reads off the parsed body
    lengths = [len(w) for w in (windows if nested else windows[:1])]
    assert was_nested == nested
    if any(n != window for n in lengths):
        with pytest.raises(InputError) as caught:
            windows_of(spec, x, was_nested)
        bad = next(i for i, n in enumerate(lengths) if n != window)
        assert caught.value.loc == (("x", bad) if nested else ("x",))
        return
    batch = windows_of(spec, x, was_nested)
    assert batch.shape == (len(lengths), window, 1)
    np.testing.assert_array_equal(
        batch[..., 0], np.asarray(windows if nested else windows[:1], np.float32)
    )


def windows_of(spec, x: list, nested: bool) -> np.ndarray:
    """The curve routes' batch, with their error locations (`x[i]`, or `x` for one window)."""
    try:
        return inputs.windows(spec, x if nested else [x])
    except InputError as exc:
        raise native._curve_error(exc, nested) from None
