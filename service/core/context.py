"""What is known about the request being served, readable anywhere (log lines, the data plane).

The protocol layer opens one `Request` per HTTP request or RPC (`begin`); the data plane adds
the model and version (`note_model`); the log formatter reads it all (`fields`). Each request
runs in its own task, so the value never leaks into the next one.
"""

import os
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import count

_PREFIX = os.urandom(6).hex()  # per process: IDs stay unique across replicas and restarts
_ids = count(1)


def new_id() -> str:
    """A fresh request ID: this process's random prefix and a counter (no syscall per call)."""
    return f"{_PREFIX}{next(_ids):08x}"


@dataclass(slots=True)
class Request:
    request_id: str
    route: str = "<unmatched>"
    start: float = field(default_factory=time.perf_counter)
    status: int | None = None
    duration_ms: float | None = None
    model: str | None = None
    version: int | None = None


current: ContextVar[Request | None] = ContextVar("request", default=None)


def begin(request_id: str) -> Request:
    request = Request(request_id)
    current.set(request)
    return request


def note_model(name: str, version: int) -> None:
    """Attach the model serving this request to its log lines (no-op outside a request)."""
    request = current.get()
    if request is not None:
        request.model, request.version = name, version


def fields() -> dict:
    """The current request's known fields for a log line; empty outside a request."""
    r = current.get()
    if r is None:
        return {}
    found = {"request_id": r.request_id, "route": r.route, "status": r.status,
             "duration_ms": r.duration_ms, "model": r.model, "version": r.version}  # fmt: skip
    return {k: v for k, v in found.items() if v is not None}
