"""The in-process profile's ASGI calls: real answers through the app, bad answers stop it."""

import asyncio
import json

import pytest

from bench import inprocess
from bench.bare import app
from bench.bodies import ENDPOINTS, as_json


def test_a_hand_made_asgi_call_gets_the_apps_answer():
    body = as_json(ENDPOINTS["/predict/stock"]).encode()

    async def one() -> tuple[int, bytes]:
        async with inprocess.lifespan(app) as state:
            return await inprocess.call(
                app, inprocess.http_scope("/predict/stock", body), state, body
            )

    status, answer = asyncio.run(one())
    assert status == 200 and json.loads(answer)["predictions"] == [pytest.approx(2735.64)]


def test_measure_times_every_request_of_every_round():
    paths = ["/predict/stock", "/classify"]
    results, _ = asyncio.run(inprocess.measure({"bare": app}, paths, n=7, warmup=1, rounds=2))
    assert {p: len(r["bare"]) for p, r in results.items()} == {p: 7 for p in paths}
    assert "| `/classify` |" in inprocess.table(results, ["bare"])


def test_an_answer_that_is_not_a_200_stops_the_run():
    async def invalid() -> None:
        async with inprocess.lifespan(app) as state:
            await inprocess.timed(app, state, "/predict/stock", b'{"rows": []}', 1)

    with pytest.raises(RuntimeError, match="422"):
        asyncio.run(invalid())


def test_a_module_without_the_attribute_is_built_by_its_create_app(tmp_path, monkeypatch):
    (tmp_path / "factory_only.py").write_text("def create_app():\n    return 'built'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert inprocess.load_app("factory_only:app") == "built"
