"""Dynamic micro-batching: concurrent requests for one model merged into one model call.

One `Batcher` per model name, configured by one `Options` (whose defaults Settings reads:
BATCH_MAX_WINDOWS, BATCH_MAX_WAIT_MS, BATCH_QUEUE_SIZE, BATCH_WORKER). By default
(BATCH_WORKER=loop) the model calls run on the event loop's own thread: what one turn of the
loop submitted is cut into calls at the end of that turn, so requests parsed together share
a call at no added wait, and there is no hand-off to another thread and back. With
BATCH_WORKER=thread a dedicated worker thread takes the oldest request from a bounded queue,
adds whatever else is queued for the same model object, waiting for more at most until the
oldest request has been queued `max_wait_s`, and runs one call on the concatenated windows.
Either way each request gets its own rows back, in order, and a request's own windows are
never split: one larger than `max_windows` goes through alone, in one call.

Each queued item carries the serving function of the version it was resolved with, and a
call only merges items of the same one: when hot reload swaps a new version in, queued and
running requests finish on the version they started with, the next ones use the new one.
The batcher is attached to each version when it loads (service.core.registry), one per
model name, so a new version keeps its name's queue and worker.

A gRPC call runs its model call at once, in loop mode, when nothing waits for one in its
turn and the model's last call took under CHEAP_S (`alone`, set by service.grpc.gate).
grpc.aio hands the server one call at a time, a turn or more after the one before, so with
a fast model nothing joins it at the end of the turn (1.01 windows a model call under load,
docs/performance.md) and waiting for that end only cost a future and one more turn of the
loop. While a model call takes milliseconds, grpc's calls pile up behind it and do share the
next turn's call, so a slow model's calls keep waiting for the turn's end. A request already
waiting in the turn is joined.

`lstm_model_queue_depth` reads `peak()`: the most requests that waited at once for a model
call since the previous scrape. In the loop mode a queue only exists within one turn of the
loop (a scrape never sees one), so a current length would always read 0 there; the peak moves
in both modes.
"""

import asyncio
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from service.core import metrics
from service.core.errors import Overloaded

log = logging.getLogger(__name__)

# True while serving a request that no other can join in its turn of the event loop: a gRPC
# call (grpc.aio hands the server one call at a time; set by service.grpc.gate). Loop mode
# runs its model call at once when nothing is waiting in the turn.
alone: contextvars.ContextVar[bool] = contextvars.ContextVar("alone", default=False)

Serve = Callable[[np.ndarray], dict[str, np.ndarray]]  # one version's graph, in the worker


@dataclass(eq=False)
class Item:
    """One request waiting for the model: its windows `(n, window, features)` and its answer."""

    serve: Serve
    batch: np.ndarray
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    queued_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Options:
    """How a model's requests share calls: the one set of defaults (Settings reads them)."""

    max_windows: int = 256  # windows merged into one call (256: one request's most windows)
    max_wait_s: float = 0.0  # worker mode: longest a request waits for company
    queue_size: int = 1024  # requests waiting per model; one more is refused (429)
    worker: Literal["loop", "thread"] = "loop"  # where calls run (docs/performance.md)


DEFAULTS = Options()
CHEAP_S = 0.0005  # a gRPC call alone runs its model call at once if the last one took less
_STOP = object()


class Batcher:
    """The requests waiting for one model name's calls, and where those calls run."""

    def __init__(
        self, name: str, options: Options = DEFAULTS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name, self.max_windows, self.max_wait_s = name, options.max_windows, options.max_wait_s
        self.in_loop = options.worker == "loop"
        self.observed = metrics.Inference(name)
        self.last_call_s = 0.0  # how long the last model call took (`_submit_in_loop`)
        self.clock = clock
        self.most_waiting = 0  # the peak since the last scrape (`peak()`)
        self.queue: queue.Queue = queue.Queue(maxsize=options.queue_size)
        self.carry: Item | None = None  # taken from the queue but left for the next call
        self.pending: list[Item] = []  # submitted in this turn of the event loop, not queued yet
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    async def submit(self, serve: Serve, batch: np.ndarray) -> dict[str, np.ndarray]:
        """`serve(batch)`, computed in one call shared with concurrent requests."""
        if self.in_loop:
            return await self._submit_in_loop(serve, batch)
        if self.thread is None:
            self.start()
        if self.queue.qsize() + len(self.pending) >= self.queue.maxsize:
            raise Overloaded(self.name)
        loop = asyncio.get_running_loop()
        item = Item(serve, batch, loop.create_future(), loop, self.clock())
        self.pending.append(item)
        self.most_waiting = max(self.most_waiting, self.queue.qsize() + len(self.pending))
        if len(self.pending) == 1:  # the first of this turn: hand them all over at its end
            loop.call_soon(self._flush)
        return await item.future

    async def _submit_in_loop(self, serve: Serve, batch: np.ndarray) -> dict[str, np.ndarray]:
        if alone.get() and not self.pending and self.last_call_s < CHEAP_S:
            self.most_waiting = max(self.most_waiting, 1)  # cheap, and alone: run it now
            return self.model_call(serve, batch)
        if len(self.pending) >= self.queue.maxsize:
            raise Overloaded(self.name)
        loop = asyncio.get_running_loop()
        item = Item(serve, batch, loop.create_future(), loop, self.clock())
        self.pending.append(item)
        self.most_waiting = max(self.most_waiting, len(self.pending))
        if len(self.pending) == 1:
            loop.call_soon(self._run_in_loop)
        return await item.future

    def peak(self) -> int:
        """The most requests that waited at once since the last call of this (then reset)."""
        waiting = self.queue.qsize() + len(self.pending)
        peak, self.most_waiting = max(self.most_waiting, waiting), waiting
        return peak

    def _run_in_loop(self) -> None:
        """At the end of this turn of the event loop: the model calls for what it submitted,
        on the loop's own thread (no hand-off to a worker and back: on 2 cores, where the
        load generator takes the other core, that doubled the throughput of the ceiling)."""
        items, self.pending = self.pending, []
        for call in self._calls(items):
            _resolve_all(self.call(call))

    def _calls(self, items: list[Item]) -> list[list[Item]]:
        """Items in order, cut into calls: one version each, at most max_windows (a request
        larger than that alone), a request never split."""
        calls: list[list[Item]] = []
        windows = 0
        for item in items:
            n = len(item.batch)
            if calls and calls[-1][0].serve is item.serve and windows + n <= self.max_windows:
                calls[-1].append(item)
                windows += n
            else:
                calls.append([item])
                windows = n
        return calls

    def _flush(self) -> None:
        """Queue what this turn of the event loop submitted, in one go: requests parsed in
        the same turn wake the worker once and share its next call, at no added wait."""
        items, self.pending = self.pending, []
        for item in items:
            self.queue.put_nowait(item)  # room was checked when each was submitted

    def start(self) -> None:
        """Start the worker thread (once; `submit` calls it, so a batcher starts on first use)."""
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(
                        target=self.run, name=f"batcher-{self.name}", daemon=True
                    )
                    self.thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Finish what is queued, then end the worker thread."""
        with self.lock:
            thread, self.thread = self.thread, None
        if thread is not None:
            try:
                self.queue.put(_STOP, timeout=timeout_s)
            except queue.Full:  # still full after the grace period: leave the daemon thread
                log.error("batcher %s: queue still full at shutdown", self.name)
                return
            thread.join(timeout_s)

    def run(self) -> None:
        while (items := self.take()) is not None:
            self.dispatch(items)

    def take(self) -> list[Item] | None:
        """The next call's items: the oldest request, plus what joins it within the bounds."""
        first = self.carry if self.carry is not None else self.queue.get()
        self.carry = None
        if first is _STOP:
            return None
        items, windows = [first], len(first.batch)
        deadline = first.queued_at + self.max_wait_s
        while windows < self.max_windows:
            try:
                wait = deadline - self.clock()
                item = self.queue.get(timeout=wait) if wait > 0 else self.queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP or item.serve is not first.serve:
                self.carry = item  # a stop, or another version: next time, on its own
                break
            if windows + len(item.batch) > self.max_windows:
                self.carry = item
                break
            items.append(item)
            windows += len(item.batch)
        return items

    def dispatch(self, items: list[Item]) -> None:
        """One model call for all items in the worker; the event loop is woken once."""
        results = self.call(items)
        loops = {id(item.loop): item.loop for item in items}
        for loop_id, loop in loops.items():
            mine = [r for r, item in zip(results, items, strict=True) if id(item.loop) == loop_id]
            loop.call_soon_threadsafe(_resolve_all, mine)

    def call(self, items: list[Item]) -> list[tuple[asyncio.Future, Any, BaseException | None]]:
        """One model call for all items: each future's own rows, or the error for all."""
        try:
            batch = items[0].batch if len(items) == 1 else np.concatenate([i.batch for i in items])
            output = self.model_call(items[0].serve, batch)
        except Exception as exc:  # the callers see the error, the worker keeps serving
            results = [(item.future, None, exc) for item in items]
        else:
            results, start = [], 0
            for item in items:
                end = start + len(item.batch)
                rows = output if len(items) == 1 else {k: v[start:end] for k, v in output.items()}
                results.append((item.future, rows, None))
                start = end
        return results

    def model_call(self, serve: Serve, batch: np.ndarray) -> dict[str, np.ndarray]:
        """One model call, timed and counted."""
        started = time.perf_counter()
        output = serve(batch)
        self.last_call_s = time.perf_counter() - started
        self.observed.observe(len(batch), self.last_call_s)
        return output


def _resolve_all(results: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    for future, result, exc in results:
        _resolve(future, result, exc)


def _resolve(future: asyncio.Future, result: Any, exc: BaseException | None) -> None:
    if future.done():  # the client went away and its request task was cancelled
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
