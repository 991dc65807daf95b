"""The core's input rules and window arithmetic, without HTTP (service.core.inputs)."""

import numpy as np
import pytest

from artifact.metadata import Spec
from service.api.native.schemas import StockRequest
from service.core.errors import InputError, format_loc
from service.core.inputs import MAX_WINDOWS, stock_table, windows
from service.protocols.native import table
from tests.service import in_memory

PRICES = ["open", "high", "low", "close"]


def spec_for(features: list[str], window: int = 20) -> Spec:
    """A checked format-2 spec, with the stock rules when the features are daily rows."""
    rules = {}
    if "close" in features:
        prices = [f for f in features if f in PRICES]
        rules = {"positive": prices, "non_negative": ["volume"] if "volume" in features else [],
                 "log_ratio": {"features": prices, "denominator": "close"},
                 "ordered": [["low", "high"]]}  # fmt: skip
    return in_memory.spec_for(features, window, rules)


def rows_of(values: np.ndarray, features: list[str]) -> list:
    data = [dict(zip(features, map(float, r), strict=True)) for r in values]
    return StockRequest.model_validate({"rows": data}).rows


def test_stock_windows_read_by_eye():
    features = ["open", "high", "low", "close", "volume"]
    values = np.arange(1, 23 * 5 + 1, dtype=np.float64).reshape(23, 5)  # row i: 5i+1 .. 5i+5
    values[:, 2] = values[:, 1]  # low == high keeps the row valid
    batch = stock_table(spec_for(features), values)
    assert batch.shape == (4, 20, 5)  # (n_windows, window, features)
    for k in range(4):
        np.testing.assert_array_equal(batch[k], values[k : k + 20])
    assert batch[3, -1, 3] == values[22, 3]  # last window ends on the last row


def test_table_uses_metadata_feature_order():
    features = ["close", "volume", "open", "high", "low"]
    values = np.tile(np.array([3.0, 5.0, 1.0, 4.0, 2.0]), (20, 1))
    found = table(rows_of(values, features), tuple(features))
    np.testing.assert_array_equal(found[0], [3.0, 5.0, 1.0, 4.0, 2.0])


def test_table_names_a_missing_trained_feature():
    features = ["open", "high", "low", "close", "volume", "money"]
    with pytest.raises(InputError) as caught:
        table(rows_of(np.ones((20, 5)), features[:5]), tuple(features))
    assert format_loc(caught.value.loc) == "rows[0].money"


@pytest.mark.parametrize(
    ("row", "column", "value", "rule"),
    [
        (3, 2, 99.0, "must not exceed high"),  # low above high
        (0, 0, 1e-39, "must be at least 1.2e-38"),  # a price that vanishes in float32
        (5, 4, -1.0, "greater than or equal to 0"),  # negative volume
        (7, 3, float("nan"), "finite float32"),
    ],
)
def test_each_row_rule_names_its_row_and_feature(row, column, value, rule):
    features = ["open", "high", "low", "close", "volume"]
    values = np.full((20, 5), 10.0)
    values[row, column] = value
    with pytest.raises(InputError, match=rule) as caught:
        stock_table(spec_for(features), values)
    assert caught.value.loc == ("rows", row, features[column])


def test_price_ratio_rule_names_the_row():
    features = ["open", "high", "low", "close", "volume"]
    values = np.full((20, 5), 1e-30)
    values[4, :4] = 1e30  # 1e60 times the last close
    with pytest.raises(InputError, match="factor of 1e38") as caught:
        stock_table(spec_for(features), values)
    assert caught.value.loc == ("rows", 4, "open")


def test_windows_single_feature_accepts_flat_and_column_windows():
    spec = spec_for(["x"])
    flat = windows(spec, [[0.5] * 20, [0.25] * 20])
    column = windows(spec, [[[0.5]] * 20, [[0.25]] * 20])
    assert flat.shape == column.shape == (2, 20, 1) and flat[1, 0, 0] == 0.25
    assert flat.dtype == np.float32


@pytest.mark.parametrize(
    ("values", "loc", "fragment"),
    [
        ([[0.5] * 20, [0.5] * 19], (1,), "exactly 20 values (got 19)"),
        ([], (), "non-empty list"),
        ([[0.5] * 20] * (MAX_WINDOWS + 1), (), f"1 to {MAX_WINDOWS} windows"),
        ([[0.5] * 19 + [float("inf")]], (0, 19, "x"), "finite float32"),
    ],
)
def test_windows_refuse_bad_batches_naming_where(values, loc, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as e:
        windows(spec_for(["x"]), values)
    assert e.value.loc == loc


def test_stock_windows_name_a_short_row():
    spec = spec_for(["open", "high", "low", "close", "volume"])
    batch = [[[1.0] * 5] * 19 + [[1.0] * 3]]
    with pytest.raises(InputError, match="must hold 5 values: open, high") as caught:
        windows(spec, batch)
    assert caught.value.loc == (0, 19)


def test_format_loc():
    assert format_loc(("rows", 3, "close")) == "rows[3].close"
    assert format_loc(("x", 0, 5)) == "x[0][5]"
    assert format_loc(()) == "body"
