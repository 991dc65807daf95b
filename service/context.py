"""Per-request context: the request ID, readable anywhere (e.g. by a log formatter).

`request_id.get()` is the ID of the request being served, "-" outside one. `RequestID`
takes the client's `X-Request-ID` when it is a short token, otherwise makes one, and
returns it on every response it sends.
"""

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
request_id: ContextVar[str] = ContextVar("request_id", default="-")

# a client ID goes into logs and headers verbatim: letters, digits and ._:- only, 1..128
_SAFE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def resolve(value: str | None) -> str:
    """The client's ID if it is safe to echo, else a fresh one."""
    return value if value and _SAFE.fullmatch(value) else uuid.uuid4().hex


class RequestID:
    """Set `request_id` for the request and add `X-Request-ID` to its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(HEADER.encode())
        rid = resolve(given.decode("latin-1") if given else None)
        # not reset afterwards: each request is its own task, and the 500 handler, outside
        # this middleware, reads it too
        request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER.encode()]
                message = {**message, "headers": [*headers, (HEADER.encode(), rid.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_id)
