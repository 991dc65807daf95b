"""The micro-batcher: merging, order, the wait bound, the queue limit, and equal results."""

import asyncio
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from service.core.batching import Batcher, Item, Options
from service.core.registry import Registry
from service.core.repository import Repository
from service.main import build_registry
from service.settings import Settings
from tests.service.checks import assert_error
from tests.service.fake_models import copy_models, sine_grid
from tests.service.in_memory import client_with, outputs, spec_of


class GatedModel:
    """A fake graph: records each call's batch; the first call waits until `release` is set."""

    def __init__(self, answer=lambda batch: {"y": batch * 2}) -> None:
        self.calls: list[np.ndarray] = []
        self.entered, self.release = threading.Event(), threading.Event()
        self.answer = answer  # each window's own named outputs, by default `y` = 2 * window

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        self.calls.append(batch.copy())
        self.entered.set()
        assert self.release.wait(10), "the test never released the model"
        return self.answer(batch)


def windows(first: float, n: int) -> np.ndarray:
    """`n` windows `(n, 20, 1)` whose values start at `first` and are all distinct."""
    return (first + np.arange(n * 20, dtype=np.float32)).reshape(n, 20, 1)


async def until(condition, what: str) -> None:
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"never happened: {what}")


async def run_while_busy(batcher: Batcher, model: GatedModel, requests: list[np.ndarray]):
    """Submit `requests` while the worker is inside the call for a first, blocking request."""
    first = asyncio.ensure_future(batcher.submit(model, windows(-100, 1)))
    await until(model.entered.is_set, "the first call started")
    tasks = [asyncio.ensure_future(batcher.submit(model, r)) for r in requests]
    await until(lambda: batcher.queue.qsize() == len(requests), "all requests queued")
    model.release.set()
    results = await asyncio.gather(first, *tasks)
    batcher.stop()
    return results[1:]


def test_concurrent_requests_merge_into_one_call_in_order():
    model, batcher = GatedModel(), Batcher("fake", Options(max_windows=64, worker="thread"))
    requests = [windows(0, 1), windows(1000, 3), windows(2000, 2)]
    results = asyncio.run(run_while_busy(batcher, model, requests))
    assert [len(c) for c in model.calls] == [1, 6]  # the blocked first call, then one merged
    np.testing.assert_array_equal(model.calls[1], np.concatenate(requests))
    for request, result in zip(requests, results, strict=True):
        assert set(result) == {"y"}
        np.testing.assert_array_equal(result["y"], request * 2)


def test_merging_stops_at_max_windows_and_never_splits_a_request():
    model, batcher = GatedModel(), Batcher("fake", Options(max_windows=4, worker="thread"))
    requests = [windows(0, 3), windows(100, 2), windows(200, 9), windows(500, 1)]
    results = asyncio.run(run_while_busy(batcher, model, requests))
    assert [len(c) for c in model.calls] == [1, 3, 2, 9, 1]  # 9 > max_windows: alone, whole
    for request, result in zip(requests, results, strict=True):
        assert set(result) == {"y"}
        np.testing.assert_array_equal(result["y"], request * 2)


def test_requests_for_different_versions_are_never_merged():
    old, new = GatedModel(), GatedModel()
    new.release.set()
    batcher = Batcher("fake", Options(max_windows=64, worker="thread"))

    async def scenario():
        first = asyncio.ensure_future(batcher.submit(old, windows(0, 1)))
        await until(old.entered.is_set, "the first call started")
        tasks = [
            asyncio.ensure_future(batcher.submit(m, windows(i * 100, 1)))
            for i, m in enumerate([old, new, new])
        ]
        await until(lambda: batcher.queue.qsize() == 3, "all requests queued")
        old.release.set()
        await asyncio.gather(first, *tasks)
        batcher.stop()

    asyncio.run(scenario())
    assert [len(c) for c in old.calls] == [1, 1] and [len(c) for c in new.calls] == [2]


class RecordingQueue(queue.Queue):
    """Records how long each `get` was allowed to block; nothing else ever arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[float | None] = []

    def get(self, block: bool = True, timeout: float | None = None):
        self.timeouts.append(timeout if block else 0.0)
        raise queue.Empty


def item_queued_at(t: float) -> Item:
    return Item("model", windows(0, 1), future=None, loop=None, queued_at=t)  # type: ignore[arg-type]


def test_waits_for_company_only_until_the_oldest_request_s_bound():
    now = [10.004]
    batcher = Batcher("fake", Options(max_wait_s=0.010, worker="thread"), clock=lambda: now[0])
    batcher.queue, batcher.carry = RecordingQueue(), item_queued_at(10.0)
    assert len(batcher.take()) == 1  # nobody came: it goes alone
    assert batcher.queue.timeouts == [pytest.approx(0.006)]  # 10.0 + 0.010 - 10.004


def test_a_request_past_its_bound_does_not_wait_at_all():
    batcher = Batcher("fake", Options(max_wait_s=0.010, worker="thread"), clock=lambda: 11.0)
    batcher.queue, batcher.carry = RecordingQueue(), item_queued_at(10.0)
    assert len(batcher.take()) == 1
    assert batcher.queue.timeouts == [0.0]  # a non-blocking look at the queue only


def test_the_default_never_waits_for_company():
    batcher = Batcher("fake", Options(worker="thread"), clock=lambda: 10.0)
    batcher.queue, batcher.carry = RecordingQueue(), item_queued_at(10.0)
    batcher.take()
    assert batcher.queue.timeouts == [0.0]


def test_a_model_error_reaches_every_caller_and_the_worker_goes_on():
    calls = []

    def flaky(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise ValueError("boom")
        return {"y": batch}

    async def scenario():
        batcher = Batcher("fake", Options(worker="thread"))
        with pytest.raises(ValueError, match="boom"):
            await batcher.submit(flaky, windows(0, 1))
        result = await batcher.submit(flaky, windows(5, 1))
        batcher.stop()
        return result

    np.testing.assert_array_equal(asyncio.run(scenario())["y"], windows(5, 1))


def test_a_new_version_keeps_the_name_s_batcher(fake_models_dir):
    spec = spec_of(fake_models_dir, "sine")
    registry = Registry(Repository(fake_models_dir), lambda path: (spec, lambda b: {}),
                        Options())  # fmt: skip
    registry.install(registry.load_version("sine", 1))
    batcher = registry.model("sine").batcher
    registry.install(registry.load_version("sine", 2))  # what hot reload does
    assert registry.model("sine").batcher is batcher and registry.model("sine").version == 2


def test_batched_results_equal_unbatched_inference(models_dir):
    registry = build_registry(Settings(models_dir=models_dir))
    calls = []

    async def scenario(model, requests):
        def counting(batch):
            calls.append(len(batch))
            return model.serve(batch)

        batcher = Batcher(model.name, Options(max_windows=256, max_wait_s=0.05, worker="thread"))
        results = await asyncio.gather(*(batcher.submit(counting, r) for r in requests))
        batcher.stop()
        return results

    rng = np.random.default_rng(0)
    for name in ("stock", "sine", "classify"):
        model = registry.model(name)
        requests = [rng.uniform(1, 2, (n, *model.spec.input_shape)).astype(np.float32)
                    for n in (1, 5, 2, 17)]  # fmt: skip
        calls.clear()
        results = asyncio.run(scenario(model, requests))
        assert len(calls) < len(requests)  # some requests did share a call
        for request, result in zip(requests, results, strict=True):
            alone = model.serve(request)
            assert set(result) == set(alone) == set(model.spec.outputs)
            for output, values in alone.items():
                np.testing.assert_allclose(result[output], values, rtol=1e-5, atol=1e-6)
    registry.stop()


def test_full_queue_answers_429_with_retry_after(fake_models_dir, tmp_path):
    model = GatedModel()

    def graph(spec):  # the sine fake's named outputs, from the gated call
        model.answer = lambda batch: outputs(spec, batch, 0.5)
        return model

    sine_dir = copy_models(fake_models_dir, tmp_path, ["sine"])
    body = {"x": sine_grid(100)}
    settings = {"batch_queue_size": 1, "batch_worker": "thread"}  # a held worker, a full queue
    with client_with(sine_dir, graph, **settings) as client, ThreadPoolExecutor(2) as pool:
        batcher = client.app_state["registry"].model("sine").batcher
        running = pool.submit(client.post, "/predict/sine", json=body)  # held inside the model
        assert model.entered.wait(10)
        queued = pool.submit(client.post, "/predict/sine", json=body)  # fills the queue
        for _ in range(10_000):
            if batcher.queue.full():
                break
            threading.Event().wait(0.001)
        response = client.post("/predict/sine", json=body)
        model.release.set()
        assert running.result().status_code == 200 and queued.result().status_code == 200
    assert_error(response, 429, "overloaded")
    assert response.headers["Retry-After"] == "1"


def test_in_loop_requests_of_one_turn_share_one_call_in_order():
    calls = []

    def serve(batch):
        calls.append(len(batch))
        return {"y": batch * 2}

    async def main():
        batcher = Batcher("fake", Options(max_windows=64, worker="loop"))
        requests = [windows(0, 1), windows(1000, 3), windows(2000, 2)]
        return await asyncio.gather(*(batcher.submit(serve, r) for r in requests)), requests

    results, requests = asyncio.run(main())
    assert calls == [6]  # one call for the three requests submitted in the same turn
    for result, request in zip(results, requests, strict=True):
        np.testing.assert_array_equal(result["y"], request * 2)


def test_in_loop_more_requests_in_one_turn_than_the_queue_holds_is_429():
    async def main():
        batcher = Batcher("fake", Options(max_windows=64, queue_size=2, worker="loop"))
        serve = lambda batch: {"y": batch}  # noqa: E731
        return await asyncio.gather(
            *(batcher.submit(serve, windows(0, 1)) for _ in range(3)), return_exceptions=True
        )

    results = asyncio.run(main())
    assert [type(r).__name__ for r in results] == ["dict", "dict", "Overloaded"]


def test_in_loop_calls_never_exceed_max_windows_nor_split_a_request():
    calls = []

    def serve(batch):
        calls.append(len(batch))
        return {"y": batch}

    async def main():
        batcher = Batcher("fake", Options(max_windows=4, worker="loop"))
        sizes = [3, 1, 2, 5, 1]
        await asyncio.gather(*(batcher.submit(serve, windows(0, n)) for n in sizes))

    asyncio.run(main())
    assert calls == [4, 2, 5, 1]


def test_defaults_are_the_settings_defaults():
    """One set of defaults: what a Batcher gets unconfigured is what the service runs with."""
    settings, batcher = Settings(), Batcher("fake")
    assert batcher.max_windows == settings.batch_max_windows
    assert batcher.queue.maxsize == settings.batch_queue_size
    assert batcher.in_loop == (settings.batch_worker == "loop")
    assert batcher.max_wait_s * 1000 == pytest.approx(settings.batch_max_wait_ms)


def test_in_loop_peak_counts_the_requests_of_one_turn_then_resets():
    async def main():
        batcher = Batcher("fake", Options(worker="loop"))
        serve = lambda batch: {"y": batch}  # noqa: E731
        await asyncio.gather(*(batcher.submit(serve, windows(0, 1)) for _ in range(5)))
        return batcher.peak(), batcher.peak()

    assert asyncio.run(main()) == (5, 0)


def test_worker_peak_counts_the_queued_requests():
    model, batcher = GatedModel(), Batcher("fake", Options(worker="thread"))
    peaks = []

    async def main():
        first = asyncio.ensure_future(batcher.submit(model, windows(-100, 1)))
        await until(model.entered.is_set, "the first call started")
        tasks = [asyncio.ensure_future(batcher.submit(model, windows(0, 1))) for _ in range(3)]
        await until(lambda: batcher.queue.qsize() == 3, "all requests queued")
        peaks.append(batcher.peak())
        model.release.set()
        await asyncio.gather(first, *tasks)
        batcher.stop()
        peaks.extend((batcher.peak(), batcher.peak()))

    asyncio.run(main())
    # the three still waited when the interval after the first scrape began; then none did
    assert peaks == [3, 3, 0]
