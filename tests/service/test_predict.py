"""The plain functions behind the routes, without HTTP: window arithmetic and model rules."""

import numpy as np
import pytest

from service.errors import InputError, format_loc
from service.predict import curve_batch, stock_batch
from service.schemas import StockRequest


def request_from_table(table: np.ndarray, features: list[str]) -> StockRequest:
    rows = [dict(zip(features, map(float, r), strict=True)) for r in table]
    return StockRequest.model_validate({"rows": rows})


def test_stock_batch_windows_read_by_eye():
    features = ["open", "high", "low", "close", "volume"]
    table = np.arange(1, 23 * 5 + 1, dtype=np.float32).reshape(23, 5)  # row i: 5i+1 .. 5i+5
    table[:, 2] = table[:, 1]  # low == high keeps the row valid
    batch = stock_batch(request_from_table(table, features), features, window=20)
    assert batch.shape == (4, 20, 5)  # (n_windows, window, features)
    for k in range(4):
        np.testing.assert_array_equal(batch[k], table[k : k + 20])
    assert batch[3, -1, 3] == table[22, 3]  # last window ends on the last row


def test_stock_batch_uses_metadata_feature_order():
    features = ["close", "volume", "open", "high", "low"]
    table = np.tile(np.array([3.0, 5.0, 1.0, 4.0, 2.0], dtype=np.float32), (20, 1))
    batch = stock_batch(request_from_table(table, features), features, window=20)
    np.testing.assert_array_equal(batch[0, 0], [3.0, 5.0, 1.0, 4.0, 2.0])


def test_stock_batch_names_a_missing_trained_feature():
    features = ["open", "high", "low", "close", "volume", "money"]
    table = np.ones((20, 5), dtype=np.float32)
    request = request_from_table(table, features[:5])
    with pytest.raises(InputError) as caught:
        stock_batch(request, features, window=20)
    assert format_loc(caught.value.loc) == "rows[0].money"


def test_curve_batch_single_and_nested():
    single, nested = curve_batch([0.5] * 20, window=20)
    assert single.shape == (1, 20, 1) and nested is False
    many, nested = curve_batch([[0.5] * 20, [0.25] * 20], window=20)
    assert many.shape == (2, 20, 1) and nested is True and many[1, 0, 0] == 0.25


def test_format_loc():
    assert format_loc(["body", "rows", 3, "close"]) == "rows[3].close"
    assert format_loc(["body", "x", 0, 5]) == "x[0][5]"
    assert format_loc(["body"]) == "body"
