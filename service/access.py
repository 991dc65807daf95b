"""Per-request observation: route template, status and duration, into metrics and log lines.

A plain ASGI middleware (not BaseHTTPMiddleware, which runs the app in another task
and hides context changes made downstream). It keeps a mutable `RequestFields` in a
contextvar for the request's lifetime: `infer` adds the model and version to it, the
log formatter reads it, and uvicorn's access line (logged when the response starts,
inside this request's task) picks up route, status and duration from it.
"""

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import metrics

UNMATCHED = "<unmatched>"  # route label of requests no route matched (404s): bounded cardinality


@dataclass
class RequestFields:
    """What is known about the current request so far."""

    scope: Scope = field(repr=False)
    start: float = field(default_factory=time.perf_counter)
    status: int | None = None
    duration_ms: float | None = None
    model: str | None = None
    version: int | None = None

    @property
    def route(self) -> str:
        """The route template (`/models/{name}`), not the raw path; known once routed."""
        route = self.scope.get("route")
        return getattr(route, "path", None) or UNMATCHED

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.start) * 1000, 2)


current: ContextVar[RequestFields | None] = ContextVar("request_fields", default=None)


def note_model(name: str, version: int) -> None:
    """Attach the model serving this request to its log lines (no-op outside a request)."""
    fields = current.get()
    if fields is not None:
        fields.model, fields.version = name, version


class AccessMiddleware:
    """Counts and times every HTTP request by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Each request runs in its own task, so the value never leaks into the next one;
        # it is not reset on exit because uvicorn logs a crash's 500 after we return.
        fields = RequestFields(scope)
        current.set(fields)

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                fields.status, fields.duration_ms = message["status"], fields.elapsed_ms()
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception:
            fields.status, fields.duration_ms = 500, fields.elapsed_ms()
            raise
        finally:
            self.record(fields, scope["method"])

    @staticmethod
    def record(fields: RequestFields, method: str) -> None:
        route, status = fields.route, str(fields.status or 500)
        metrics.HTTP_REQUESTS.labels(route, method, status).inc()
        seconds = time.perf_counter() - fields.start
        metrics.HTTP_LATENCY.labels(route, method).observe(seconds)


def fields_for_log() -> dict[str, Any]:
    """The current request's fields for a log line; empty outside a request."""
    fields = current.get()
    if fields is None:
        return {}
    return {
        "route": fields.route,
        "status": fields.status,
        "duration_ms": fields.duration_ms,
        "model": fields.model,
        "version": fields.version,
    }
