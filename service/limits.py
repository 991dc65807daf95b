"""Request gates before any parsing: body size (413), content type (415), strict JSON (422).

`BodyLimits` is a pure ASGI middleware, so an oversized body is refused from its
Content-Length or, when streamed, as soon as the bytes read pass the limit; the app never
runs for it (the body is buffered here, as FastAPI would buffer it anyway).
`StrictJSONRoute` is the route class of every router taking a JSON body: it decodes UTF-8
strictly and rejects duplicate keys, as a clean 422 instead of a 400 or last-one-wins.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_body

BODY_METHODS = {"POST", "PUT", "PATCH"}
DEFAULT_MAX_BODY_BYTES = 1 << 20  # until the lifespan has put MAX_BODY_BYTES in the state


def is_json(content_type: str) -> bool:
    """`application/json` or `application/<anything>+json`, parameters ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyLimits:
    """Refuse bodies over the limit (413) and non-JSON bodies on POST/PUT/PATCH (415).

    The limit is MAX_BODY_BYTES, put into the lifespan state at startup.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = scope.get("state", {}).get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        declared = int(length) if length.isdigit() else None
        has_body = bool(declared) or "transfer-encoding" in headers
        if declared is not None and declared > limit:
            return await _refuse(413, limit, scope, receive, send)
        # TF Serving ignores Content-Type and its docs' clients (`curl -d`) send none or a form
        # type: its routes (service.routes.tfserving) read every body as JSON, as it does
        json_body = is_json(headers.get("content-type", "")) or scope["path"].startswith("/v1/")
        if scope["method"] in BODY_METHODS and has_body and not json_body:
            return await _refuse(415, limit, scope, receive, send)
        if has_body:
            body = await _read(receive, limit)
            if body is None:
                return await _refuse(413, limit, scope, receive, send)
            receive = _replay(body, receive)
        await self.app(scope, receive, send)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as the bytes read pass the limit."""
    chunks, seen, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # client gone: let the app see an empty body
            break
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _refuse(status: int, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    message = (
        f"the request body is larger than the limit of {limit} bytes"
        if status == 413
        else "the request body must be JSON: send Content-Type: application/json"
    )
    # the connection cannot be reused with an unread body behind this answer
    response = JSONResponse(error_body(message), status, headers={"Connection": "close"})
    await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app: the buffered body once, then the real channel (disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise DuplicateKey(key)
    return obj


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {json.dumps(key)}")


def _invalid_json(message: str) -> RequestValidationError:
    error = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}
    return RequestValidationError([{**error, "ctx": {"error": message}, "input": {}}])


def parse_json(body: bytes) -> Any:
    """Strict UTF-8, no duplicate keys; anything else invalid as a 422 naming the position."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid_json(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except DuplicateKey as exc:
        raise _invalid_json(str(exc)) from None
    except RecursionError:
        raise _invalid_json("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise _invalid_json(f"{exc.msg} at character {exc.pos}") from None


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is parsed once, by `parse_json`, before FastAPI reads it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            body = await request.body()
            if body and is_json(request.headers.get("content-type", "")):
                request._json = parse_json(body)  # Starlette's cache: request.json() reuses it
            return await handler(request)

        return strict_handler
