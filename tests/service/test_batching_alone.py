"""A gRPC call's model call runs at once in loop mode: grpc.aio hands calls over one at a
time, so nothing can join it at the end of its turn (service.core.batching, `alone`)."""

import asyncio
import contextvars

import numpy as np
import pytest

from service.core.batching import CHEAP_S, Batcher, Options, alone
from service.core.metrics import REGISTRY
from service.grpc.gate import gated
from tests.service.test_batching import windows


def recording():
    calls: list[int] = []

    def serve(batch):
        calls.append(len(batch))
        if not np.isfinite(batch).all():
            raise ValueError("not finite")
        return {"y": batch * 2}

    return calls, serve


def submitted(batcher: Batcher, serve, batch: np.ndarray, is_alone: bool):
    """The coroutine of `batcher.submit`, driven by hand in a context where `alone` is set."""
    context = contextvars.Context()
    context.run(alone.set, is_alone)
    coroutine = batcher.submit(serve, batch)
    return context, coroutine


def first_step(context, coroutine):
    """Run the coroutine until it first suspends: its result if it never does, else None."""
    try:
        context.run(coroutine.send, None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    return None


def test_a_call_alone_gets_its_answer_without_waiting_for_the_turn():
    calls, serve = recording()
    batcher = Batcher("fake", Options(worker="loop"))

    async def main():
        result = first_step(*submitted(batcher, serve, windows(0, 2), is_alone=True))
        waited = first_step(*submitted(batcher, serve, windows(0, 1), is_alone=False))
        return result, waited

    result, waited = asyncio.run(main())
    assert result is not None and calls[0] == 2  # answered before any suspension
    np.testing.assert_array_equal(result["y"], windows(0, 2) * 2)
    assert waited is None  # a REST request still waits for the end of its turn


def test_a_call_alone_joins_what_already_waits_in_its_turn():
    calls, serve = recording()

    async def main():
        batcher = Batcher("fake", Options(worker="loop"))
        grpc_context = contextvars.Context()
        grpc_context.run(alone.set, True)
        # both start in the next turn, the REST request first
        loop = asyncio.get_running_loop()
        rest = loop.create_task(batcher.submit(serve, windows(0, 1)))
        grpc_call = loop.create_task(batcher.submit(serve, windows(100, 2)), context=grpc_context)
        return await asyncio.gather(rest, grpc_call)

    _, answer = asyncio.run(main())
    assert calls == [3]  # one model call for both
    np.testing.assert_array_equal(answer["y"], windows(100, 2) * 2)


def test_a_call_alone_that_fails_raises_and_only_calls_that_answered_are_counted():
    calls, serve = recording()
    batcher = Batcher("counted-alone", Options(worker="loop"))
    bad = np.full((1, 20, 1), np.nan, dtype=np.float32)
    before = (
        REGISTRY.get_sample_value("lstm_model_batch_size_count", {"model": "counted-alone"}) or 0.0
    )

    async def main():
        context, coroutine = submitted(batcher, serve, windows(0, 1), is_alone=True)
        first_step(context, coroutine)
        context, coroutine = submitted(batcher, serve, bad, is_alone=True)
        with pytest.raises(ValueError, match="not finite"):
            context.run(coroutine.send, None)

    asyncio.run(main())
    after = REGISTRY.get_sample_value("lstm_model_batch_size_count", {"model": "counted-alone"})
    assert after == before + 1 and calls == [1, 1]
    assert batcher.peak() == 1


def test_a_call_alone_waits_for_the_turn_while_the_model_is_slow():
    calls, serve = recording()
    batcher = Batcher("fake", Options(worker="loop"))

    async def main():
        first = first_step(*submitted(batcher, serve, windows(0, 1), is_alone=True))
        batcher.last_call_s = CHEAP_S * 10  # as if that call had taken 5 ms
        waited = first_step(*submitted(batcher, serve, windows(0, 1), is_alone=True))
        return first, waited, list(calls)

    first, waited, called = asyncio.run(main())
    assert first is not None and waited is None  # the second waits: others may join it
    assert called == [1]  # only the first had run when the second suspended


def test_worker_mode_hands_a_call_alone_to_its_thread():
    _, serve = recording()
    batcher = Batcher("fake", Options(worker="thread"))

    async def main():
        context, coroutine = submitted(batcher, serve, windows(0, 1), is_alone=True)
        return first_step(context, coroutine)

    try:
        assert asyncio.run(main()) is None  # it waits for the worker thread's answer
    finally:
        batcher.stop()


def test_the_gate_marks_each_grpc_call_alone():
    seen = []

    async def behavior(request, context):
        seen.append(alone.get())
        return request

    async def main():
        call = gated("x.Y/Z", behavior, None)
        answer = await call("request", None)
        return answer, alone.get()  # the same task, after the call

    assert asyncio.run(main()) == ("request", False) and seen == [True]
