"""POST /models/{name}/evaluate: the CLI's scorecard from the service, its limits, its bad input."""

import asyncio
import json
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from service.core import evaluation
from service.core.batching import Batcher, Options
from tests.service.checks import assert_error
from tests.service.in_memory import client_with, outputs
from tests.service.test_stock import make_rows
from tests.training.test_evaluate import nasdaq_csv
from tests.training.vendor import break_row
from training import evaluate as cli
from training.data import load_csv, load_series


def version_dir(models_dir, name):
    return max((models_dir / name).iterdir(), key=lambda p: int(p.name))


def assert_same_card(service: dict, cli_card: dict, path=""):
    """Every key of the CLI's card but `model` and `data`, equal (floats to float32 rounding)."""
    for key, expected in cli_card.items():
        if path == "" and key in ("model", "data"):
            continue
        got = service[key]
        if isinstance(expected, dict):
            assert_same_card(got, expected, f"{path}.{key}")
        elif isinstance(expected, float | list):
            assert got == pytest.approx(expected, rel=1e-4, abs=1e-6), f"{path}.{key}"
        else:
            assert got == expected, f"{path}.{key}"


def test_stock_scorecard_is_the_clis_for_the_same_rows(client, models_dir, tmp_path):
    csv = nasdaq_csv(tmp_path / "nasdaq.csv", rows=slice(0, 300))
    source = load_csv(csv, min_rows=50)
    expected, _ = cli.evaluate_stock(cli.load_export(version_dir(models_dir, "stock")), source)
    frame = source.frame.reset_index()
    rows = [{"date": r.date.strftime("%Y-%m-%d"), "open": r.open, "high": r.high, "low": r.low,
             "close": r.close, "volume": r.volume} for r in frame.itertuples()]  # fmt: skip
    response = client.post("/models/stock/evaluate", json={"rows": rows})
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["windows"] == 280 and card["model"]["name"] == "stock"
    assert card["data"]["first_target"] == expected["data"]["first_target"]
    assert card["data"]["last_target"] == expected["data"]["last_target"]
    assert_same_card(card, expected)


def training_rows(first: str, last: str) -> list[dict]:
    """Rows of the S&P 500 series the tiny stock model was trained on, as a client sends them."""
    frame = load_series("sp500").frame.loc[first:last].reset_index()
    return [{"date": r.date.strftime("%Y-%m-%d"), "open": r.open, "high": r.high, "low": r.low,
             "close": r.close, "volume": r.volume} for r in frame.itertuples()]  # fmt: skip


def test_on_the_training_series_the_headline_is_the_out_of_sample_days(client, models_dir):
    meta = json.loads((version_dir(models_dir, "stock") / "metadata.json").read_text())
    splits = meta["data"]["splits"]
    rows = training_rows("2015-06-01", "2016-06-30")  # validation days, then test days
    card = client.post("/models/stock/evaluate", json={"rows": rows}).json()
    scope = card["scope"]
    assert scope["trained_on_this_series"] and scope["headline"] == "out-of-sample days only"
    oos, val = scope["periods"]["out_of_sample"], scope["periods"]["validation"]
    assert oos["first_target"] == splits["test"]["first_target"] == card["data"]["first_target"]
    assert val["last_target"] == splits["validation"]["last_target"]
    assert card["windows"] == oos["days"] and oos["days"] + val["days"] == len(rows) - 20
    assert card["mape"] == pytest.approx(oos["mape"])


def test_on_the_training_series_the_service_and_the_cli_agree(client, models_dir, tmp_path):
    rows = training_rows("2015-06-01", "2016-06-30")
    path = tmp_path / "sp500-part.csv"
    path.write_text("date,open,high,low,close,volume\n" + "".join(
        f"{r['date']},{r['open']!r},{r['high']!r},{r['low']!r},{r['close']!r},{r['volume']!r}\n"
        for r in rows))  # fmt: skip
    export = cli.load_export(version_dir(models_dir, "stock"))
    expected, _ = cli.evaluate_stock(export, load_csv(path, min_rows=50))
    card = client.post("/models/stock/evaluate", json={"rows": rows}).json()
    assert expected["scope"]["trained_on_this_series"]
    assert_same_card(card, expected)


def test_only_days_the_model_was_fitted_on_are_refused(client):
    rows = training_rows("2005-01-01", "2005-12-31")
    response = client.post("/models/stock/evaluate", json={"rows": rows})
    assert_error(response, 422, "rows", "0 of the", "out-of-sample")


def test_rows_without_dates_count_as_out_of_sample_and_say_why(client):
    rows = [
        {k: v for k, v in r.items() if k != "date"}
        for r in training_rows("2005-01-01", "2005-06-30")
    ]
    card = client.post("/models/stock/evaluate", json={"rows": rows}).json()
    assert not card["scope"]["trained_on_this_series"]
    assert "no dates" in card["scope"]["why"] and card["windows"] == len(rows) - 20


@pytest.mark.parametrize(
    ("name", "x_from", "x_to"), [("sine", 0.0, 12.0), ("classify", 95.5, 99.0)]
)
def test_curve_scorecard_is_the_clis_for_the_same_range(client, models_dir, name, x_from, x_to):
    export = cli.load_export(version_dir(models_dir, name))
    expected, _ = cli.evaluate_curve(export, x_from, x_to, windows=300, seed=3)
    body = {"x_from": x_from, "x_to": x_to, "windows": 300, "seed": 3}
    card = client.post(f"/models/{name}/evaluate", json=body).json()
    assert card["data"] == expected["data"] and card["windows"] == 300
    assert_same_card(card, expected)


def test_far_range_is_warned_on_every_window(client):
    card = client.post("/models/sine/evaluate", json={"x_from": 95.5, "x_to": 120.0}).json()
    assert card["windows"] == evaluation.DEFAULT_WINDOWS and card["warned_windows"] == 1.0


def test_stock_rows_without_dates_are_scored(client):
    rows = [{k: v for k, v in row.items() if k != "date"} for row in make_rows(60)]
    card = client.post("/models/stock/evaluate", json={"rows": rows}).json()
    assert card["windows"] == 40 and card["data"]["first_target"] is None
    assert "by_year" not in card["interval"]


def test_stock_rejects_too_few_rows(client):
    response = client.post("/models/stock/evaluate", json={"rows": make_rows(49)})
    assert_error(response, 422, "rows: must hold between 50 and 5000 rows (got 49)")


def test_stock_rejects_more_than_the_row_limit(client):
    rows = make_rows(evaluation.MAX_ROWS + 1)
    assert_error(client.post("/models/stock/evaluate", json={"rows": rows}), 422, "rows", "5000")


def broken_nasdaq(kinds: dict[int, str]):
    """300 real NASDAQ rows (a `date` column), with `kinds` (row -> how) broken as vendors do."""
    frame = load_series("nasdaq").frame.iloc[:300].reset_index()
    for row, kind in kinds.items():
        break_row(frame, row, kind)
    return frame


def as_rows(frame) -> list[dict]:
    return [{"date": r.date.strftime("%Y-%m-%d"), "open": r.open, "high": r.high, "low": r.low,
             "close": r.close, "volume": r.volume} for r in frame.itertuples()]  # fmt: skip


BROKEN = {40: "low_above_high", 75: "close_above_high", 110: "open_below_low",
          150: "zero_volume", 190: "negative_price", 230: "duplicate_date",
          260: "swapped_dates"}  # fmt: skip


def test_inconsistent_rows_are_left_out_as_the_cli_leaves_them_out(client, models_dir, tmp_path):
    """The same broken rows as a CSV for the CLI and as JSON for the route: the same windows
    left out, the same rows listed, the same card."""
    frame = broken_nasdaq(BROKEN)
    path = tmp_path / "broken.csv"
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    source = load_csv(path, min_rows=50)
    expected, _ = cli.evaluate_stock(cli.load_export(version_dir(models_dir, "stock")), source)
    response = client.post("/models/stock/evaluate", json={"rows": as_rows(frame)})
    assert response.status_code == 200, response.text
    card = response.json()
    # one row each, both rows of the swapped pair; the repeated date is one row
    assert card["data"]["excluded"] == expected["data"]["excluded"]
    assert card["data"]["excluded"]["rows"] == len(BROKEN) + 1
    assert card["windows"] == expected["windows"] < 300 - 1 - 20 - 6 * 21
    assert_same_card(card, expected)


@pytest.mark.parametrize(
    ("kind", "fragments"),
    [("low_above_high", ("rows[40].low", "is above high")),
     ("zero_volume", ("rows[40].volume", "must be > 0")),
     ("negative_price", ("rows[40].close", "must be > 0")),
     ("swapped_dates", ("rows[40].date", "breaks the order of the rows"))],
)  # fmt: skip
def test_strict_refuses_at_the_first_inconsistent_row_naming_it(client, kind, fragments):
    rows = as_rows(broken_nasdaq({40: kind}))
    response = client.post("/models/stock/evaluate", json={"rows": rows, "strict": True})
    assert_error(response, 422, *fragments)
    assert client.post("/models/stock/evaluate", json={"rows": rows}).status_code == 200


def test_a_negative_money_is_left_out_like_any_inconsistent_value(client):
    rows = [{**row, "money": row["volume"] * row["close"]} for row in as_rows(broken_nasdaq({}))]
    rows[30]["money"] = -1.0
    card = client.post("/models/stock/evaluate", json={"rows": rows}).json()
    assert card["data"]["excluded"]["list"] == [
        {"date": rows[30]["date"], "column": "money", "problem": "-1.0 must be >= 0"}
    ]
    assert card["windows"] == 300 - 20 - 21


def test_a_date_far_in_the_future_sorts_last_and_is_not_misread(client):
    """Dates of any year pydantic takes (1-9999), compared in days, not wrapped around."""
    rows = as_rows(broken_nasdaq({}))
    rows[-1]["date"] = "9999-12-31"
    card = client.post("/models/stock/evaluate", json={"rows": rows}).json()
    assert card["data"]["excluded"]["rows"] == 0 and card["windows"] == 300 - 20
    assert card["data"]["last_target"] == "9999-12-31"


def test_too_few_windows_left_after_the_inconsistent_rows_is_refused(client):
    rows = as_rows(broken_nasdaq({r: "zero_volume" for r in range(21, 300, 21)}))
    assert_error(client.post("/models/stock/evaluate", json={"rows": rows}), 422, "rows",
                 "1 next-day close(s) to score", "the 14 inconsistent", "at least 30")  # fmt: skip


def test_a_consistent_row_outside_the_models_input_rules_is_still_refused(client):
    rows = make_rows(60)
    for key in ("open", "high", "low", "close"):
        rows[33][key] = 1e-39  # positive, so consistent; below float32's smallest normal
    response = client.post("/models/stock/evaluate", json={"rows": rows})
    assert_error(response, 422, "rows[33].", "must be at least")


def test_stock_rows_need_a_date_on_every_row_or_none(client):
    rows = make_rows(60)
    del rows[7]["date"]
    assert_error(client.post("/models/stock/evaluate", json={"rows": rows}), 422, "rows[7]")


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({"x_from": 5.0, "x_to": 5.0}, ("x_to", "greater than x_from")),
        ({"x_from": 5.0, "x_to": 1.0}, ("x_to", "greater than x_from")),
        ({"x_from": 0.0, "x_to": 0.5}, ("x_to", "shorter than one window")),
        ({"x_from": 0.0, "x_to": 20_000.0}, ("x_to", "at most 10000")),
        ({"x_from": 0.0, "x_to": 10.0, "windows": 5001}, ("windows", "less than or equal to 5000")),
        ({"x_from": 0.0, "x_to": 10.0, "windows": 0}, ("windows", "greater than or equal to 1")),
        ({"x_from": 0.0, "x_to": 10.0, "windows": "7"}, ("windows",)),
        ({"x_from": 0.0, "x_to": 10.0, "seed": -1}, ("seed",)),
        ({"x_from": 0.0, "x_to": 10.0, "x": [1.0]}, ("x: is not an allowed field",)),
        ({"x_from": "0", "x_to": 10.0}, ("x_from",)),
    ],
)
def test_curve_rejects_bad_ranges_and_limits(client, body, fragments):
    assert_error(client.post("/models/sine/evaluate", json=body), 422, *fragments)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_curve_rejects_non_finite_x(client, literal):
    content = f'{{"x_from": 0, "x_to": {literal}}}'
    response = client.post("/models/classify/evaluate", content=content,
                           headers={"content-type": "application/json"})  # fmt: skip
    assert_error(response, 422, "x_to")


def test_curve_rejects_a_body_of_many_fields_before_parsing(client):
    content = json.dumps({"x_from": 0, "x_to": 10}) + " " * 10 + "," * 100
    response = client.post("/models/sine/evaluate", content=content,
                           headers={"content-type": "application/json"})  # fmt: skip
    assert_error(response, 422, "the body holds 101 ','")


def test_unknown_model_is_404(client):
    response = client.post("/models/nope/evaluate", json={"x_from": 0, "x_to": 10})
    assert response.status_code == 404


def test_a_prediction_answers_while_a_large_evaluate_runs(models_dir):
    """With the model calls in a worker thread, the evaluate's first chunk holds the graph
    until a prediction is queued behind it; the prediction is answered before the evaluate's
    last chunk, not after the whole series."""
    calls, started, release = [], threading.Event(), threading.Event()

    def graph(spec):
        def serve(batch):
            calls.append(len(batch))
            if len(batch) == evaluation.CHUNK and not started.is_set():
                started.set()
                release.wait(30)
            return outputs(spec, batch, 100.0)

        return serve

    rows = make_rows(evaluation.MAX_ROWS)
    answers = {}
    with client_with(models_dir, graph, batch_worker="thread") as client:
        batcher = client.app_state["registry"].model("stock").batcher
        big = threading.Thread(target=lambda: answers.update(
            evaluate=client.post("/models/stock/evaluate", json={"rows": rows})))  # fmt: skip
        big.start()
        assert started.wait(60)
        small = threading.Thread(target=lambda: answers.update(
            predict=client.post("/predict/stock", json={"rows": make_rows(21)})))  # fmt: skip
        small.start()
        for _ in range(3000):  # until the prediction waits in the queue (or 30 s)
            if batcher.queue.qsize() or batcher.carry is not None:
                break
            threading.Event().wait(0.01)
        release.set()
        small.join(60)
        big.join(60)
    assert answers["predict"].status_code == 200 and answers["evaluate"].status_code == 200
    windows = evaluation.MAX_ROWS - 20
    assert answers["evaluate"].json()["windows"] == windows
    chunks = [i for i, n in enumerate(calls) if n == evaluation.CHUNK]
    assert len(chunks) == windows // evaluation.CHUNK
    assert 2 in calls and calls.index(2) < chunks[-1]
    assert max(calls) <= evaluation.CHUNK and np.sum(calls) >= windows


def test_with_model_calls_on_the_event_loop_a_prediction_goes_between_evaluate_chunks():
    """In the default mode the model calls run on the event loop: a prediction submitted while
    the evaluate's first chunk is being computed is called before the evaluate's second chunk."""
    calls = []
    batcher = Batcher("stock", Options(max_windows=evaluation.CHUNK, worker="loop"))
    model = SimpleNamespace(spec=SimpleNamespace(prediction="prediction"))

    async def predict(batch):
        return await batcher.submit(serve, batch)

    def serve(batch):
        calls.append(len(batch))
        if len(calls) == 1:  # the evaluate's first chunk: a prediction arrives meanwhile
            asyncio.get_running_loop().create_task(predict(np.zeros((2, 20, 7), np.float32)))
        return {"prediction": np.zeros((len(batch), 1), np.float32)}

    model.predict = predict
    windows = 3 * evaluation.CHUNK
    found = asyncio.run(evaluation.outputs(model, np.zeros((windows, 20, 7), np.float32)))
    assert len(found["prediction"]) == windows
    assert calls == [evaluation.CHUNK, 2, evaluation.CHUNK, evaluation.CHUNK]
