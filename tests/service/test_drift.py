"""Out-of-distribution warnings: the service's numpy transform, the rules, and real answers."""

import json
import math

import pytest

from service.core import metrics
from service.examples import CLASSIFY_X, SINE_X, STOCK_ROWS
from tests.service.conftest import COMMITTED_MODELS

FAR_X = [(3000 + k) / (10 * math.pi) for k in range(20)]  # the article's far window


def newest_metadata(name: str) -> dict:
    versions = [p for p in (COMMITTED_MODELS / name).iterdir() if p.name.isdigit()]
    path = max(versions, key=lambda p: int(p.name)) / "metadata.json"
    return json.loads(path.read_text())


def scaled(rows: list[dict], factor: float) -> list[dict]:
    prices = ("open", "high", "low", "close")
    return [{k: v * factor if k in prices else v for k, v in row.items()} for row in rows]


def test_the_graph_scale_free_inputs_reproduce_the_stored_statistics():
    """The drift values the export returns are the inputs its statistics were computed on."""
    import tensorflow as tf

    from training import data
    from training.windows import chronological_split

    meta = newest_metadata("stock")
    config, features = meta["config"], meta["input"]["features"]
    frame = data.load_default().frame
    train, _, _ = chronological_split(
        frame[features].to_numpy("float64"),
        frame["close"].to_numpy("float64"),
        frame.index.to_numpy(),
        config["window"],
        config["val_fraction"],
        config["test_fraction"],
    )
    version = max(int(p.name) for p in (COMMITTED_MODELS / "stock").iterdir() if p.name.isdigit())
    loaded = tf.saved_model.load(str(COMMITTED_MODELS / "stock" / str(version)))
    values = loaded.serve(tf.constant(train.inputs.astype("float32")))["drift_value"].numpy()
    inputs = values.reshape(-1, len(features))
    for i, name in enumerate(features):
        stored = meta["statistics"]["inputs"][name]
        assert inputs[:, i].mean() == pytest.approx(stored["mean"], rel=1e-3, abs=1e-5)
        assert inputs[:, i].std() == pytest.approx(stored["std"], rel=1e-3)


def test_sine_window_in_the_trained_range_has_no_warning(committed_client):
    response = committed_client.post("/predict/sine", json={"x": SINE_X})
    assert response.status_code == 200 and response.json()["warnings"] == []


def test_the_articles_far_sine_window_gets_a_warning(committed_client):
    high = newest_metadata("sine")["bounds"]["x"]["max"]
    body = committed_client.post("/predict/sine", json={"x": [SINE_X, FAR_X]}).json()
    [warning] = body["warnings"]
    assert warning["window"] == 1 and warning["feature"] == "x"
    assert warning["measure"] == "outside_range" and warning["threshold"] == 0.0
    assert warning["step"] == 19 and warning["value"] == pytest.approx(FAR_X[-1], rel=1e-6)
    assert warning["distance"] == pytest.approx(FAR_X[-1] - high, rel=1e-5)
    assert "outside the trained range" in warning["message"]


def test_classify_window_beyond_its_range_gets_a_warning(committed_client):
    body = committed_client.post("/classify", json={"x": [CLASSIFY_X, FAR_X]}).json()
    assert [w["window"] for w in body["warnings"]] == [1]


def test_stock_window_at_ten_times_the_price_level_has_no_warning(committed_client):
    """The shipped model is scale-free: its inputs, hence the z-scores, do not change."""
    plain = committed_client.post("/predict/stock", json={"rows": STOCK_ROWS}).json()
    tenfold = committed_client.post("/predict/stock", json={"rows": scaled(STOCK_ROWS, 10)}).json()
    assert max(STOCK_ROWS, key=lambda r: r["close"])["close"] * 10 > 10 * 1565  # far above bounds
    assert plain["warnings"] == [] and tenfold["warnings"] == []
    assert tenfold["next_close"] == pytest.approx(10 * plain["next_close"], rel=1e-4)


def test_stock_window_with_a_crash_day_gets_a_z_score_warning(committed_client):
    rows = [dict(row) for row in STOCK_ROWS]
    rows[10]["low"] = rows[10]["low"] / 2  # a 50% intraday fall: log(0.5) is ~19 sd out
    body = committed_client.post("/predict/stock", json={"rows": rows}).json()
    [warning] = body["warnings"]
    assert (warning["window"], warning["feature"], warning["step"]) == (0, "low", 10)
    assert warning["measure"] == "z_score" and warning["distance"] < -warning["threshold"]
    # the graph computes the log ratio in float32 (about 1e-7 of 0.7 off the float64 value)
    assert warning["value"] == pytest.approx(math.log(rows[10]["low"] / rows[-1]["close"]),
                                             rel=1e-5)  # fmt: skip


def test_warnings_are_counted_per_model(committed_client):
    counter = metrics.WARNINGS.labels("sine")
    before = counter._value.get()
    committed_client.post("/predict/sine", json={"x": [FAR_X, FAR_X, SINE_X]})
    assert counter._value.get() == before + 2


def test_fresh_exports_store_the_rule_the_service_reads(client, models_dir):
    """A new export carries the drift rule, and the card shows it."""
    stock = json.loads(next((models_dir / "stock").glob("*/metadata.json")).read_text())
    assert stock["drift"]["measure"] == "z_score" and stock["drift"]["threshold"] == 6.0
    assert 0 <= stock["drift"]["train_windows_flagged"] < 0.2
    card = client.get("/models/sine").json()
    assert card["drift"]["measure"] == "outside_range" and card["drift"]["threshold"] == 0.0
    assert card["drift"]["output"] == "drift_score" and card["drift"]["stored_with_model"]
