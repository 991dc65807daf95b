"""The one ASGI middleware: what every HTTP request needs, in one pass over its headers.

On the way in: one reading of the headers (a single-value header given twice with different
values, `Content-Type`, `Content-Length` or `Authorization`, is 400 naming it, as is a second
`Host` line or none in HTTP/1.1; `Transfer-Encoding` and `Content-Encoding` are read as the
whole list, every line of it: a transfer coding other than chunked is 501, a content coding
other than gzip, deflate or identity 415), the request ID (the client's `X-Request-ID` when
it is a short token), the API key (exactly one `Authorization: Bearer <key>`, constant-time
compare; probes and CORS preflights exempt), and the body gates (413 over MAX_BODY_BYTES,
from Content-Length, as soon as the bytes read pass it, or once decoded; 415 for a body that
is not JSON). Paths are read below the root path (`--root-path`), as the router reads them.
On the way out: the `X-Request-ID` header, the status and duration the access log line
reads, the request metrics, and for an unexpected error one logged traceback and the JSON
500. The only `send` wrapper of the stack: each layer would cost every request.
"""

import hmac
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import startup
from service.api import coding
from service.api.body import encode
from service.api.direct import Table
from service.api.errors import body_for, route_path
from service.core import context, metrics
from service.protocols.digits import whole
from service.protocols.errors import PROTOCOL_PATHS

log = logging.getLogger("service.api")

OPEN_PATHS = ("/health/", "/v2/health/")  # probes work without the key (kubelet sends none)
# Bodies of any type: TF Serving reads every body as JSON, whatever its type says; tritonclient
# sends v2 JSON with no type and binary tensors as application/octet-stream
ANY_CONTENT_TYPE = PROTOCOL_PATHS
BODY_METHODS = {"POST", "PUT", "PATCH"}
_SAFE_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_ID_HEADER = b"x-request-id"


@dataclass(frozen=True)
class GateSettings:
    api_key: bytes | None = None
    max_body_bytes: int = 1 << 20
    cors_origins: tuple[str, ...] = ()
    root_path: str = ""  # ROOT_PATH, for a server that gives none (`uvicorn service.main:app`)


def is_json(content_type: bytes) -> bool:
    """`application/json`, `text/json` or `application/<anything>+json`, parameters ignored."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in (b"application/json", b"text/json") or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


class Gone(Exception):
    """The client went away (or the server answered it) before its body was read."""


class Gate:
    def __init__(self, app: ASGIApp, settings: GateSettings, owner: Any = None) -> None:
        """`owner`: the FastAPI app whose plain routes are called directly (service.api.direct);
        built with the middleware stack, on the app's first call, when every route is in."""
        self.settings, self.key, self.root_path = settings, settings.api_key, settings.root_path
        self.app = app if not settings.cors_origins else CORSMiddleware(
            app,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )  # fmt: skip
        self.cors = bool(settings.cors_origins)
        self.direct = Table.of(owner) if owner is not None else Table()
        self.counters: dict[tuple[str, str, int], Any] = {}  # label children, looked up once
        self.timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no route speaks it: refused before any app code
            await receive()
            return await send({"type": "websocket.close", "code": 1008})
        if scope["type"] != "http":  # the lifespan
            return await startup.refusing(self.app, scope, receive, send)
        if self.root_path and not scope.get("root_path"):  # ROOT_PATH, where the server gave none
            scope = {**scope, "root_path": self.root_path}
        rid = auth = length = ctype = clash = None
        auths, hosts, preflight, origin = 0, 0, False, False
        transfer: tuple[bytes, ...] = ()  # every line of a list-valued header, in order
        codings: tuple[bytes, ...] = ()  # (the empty tuple costs no allocation)
        for name, value in scope["headers"]:  # one pass over the headers
            if name == _ID_HEADER:
                rid = value
            elif name == b"authorization":
                if auth is not None and value != auth:
                    clash = "Authorization"
                auth, auths = value, auths + 1
            elif name == b"content-length":
                if length is not None and value != length:
                    clash = "Content-Length"
                length = value
            elif name == b"content-type":
                if ctype is not None and value != ctype:
                    clash = "Content-Type"
                ctype = value
            elif name == b"transfer-encoding":
                transfer += (value,)
            elif name == b"content-encoding":
                codings += (value,)
            elif name == b"access-control-request-method":
                preflight = True
            elif name == b"origin":
                origin = True
            elif name == b"host":
                hosts += 1
        request = context.begin(
            rid.decode() if rid is not None and _SAFE_ID.fullmatch(rid) else context.new_id()
        )
        id_header = (_ID_HEADER, request.request_id.encode())

        method, path = scope["method"], route_path(scope)
        head = method == "HEAD"  # answered as GET without the body, wherever GET is
        if head:
            scope = {**scope, "method": "GET"}

        async def send_observed(message: Message) -> None:
            if head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            if message["type"] == "http.response.start":  # the access log line is written now
                request.route = getattr(scope.get("route"), "path", None) or request.route
                request.status = message["status"]
                request.duration_ms = round((time.perf_counter() - request.start) * 1000, 2)
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        gone = False
        try:
            chunked = bool(transfer)
            refusal = None
            if clash or hosts != 1 or chunked or codings:  # rare: a closer look
                refusal = _unreadable(path, clash, hosts, scope["http_version"], transfer, codings)
            if refusal is None:
                refusal = self.refuse(method, path, auth, auths, preflight, length, ctype, chunked)
            if refusal is not None:
                return await _answer(refusal, scope, receive, send_observed)
            if length not in (None, b"0") or chunked:
                limit = self.settings.max_body_bytes
                body = await _read(receive, limit)
                if body is not None and codings:
                    body = coding.decoded(body, codings, limit)  # None: over the limit
                    scope = _decoded_scope(scope, body)
                if body is None:
                    too_large = _too_large(path, self.settings)
                    return await _answer(too_large, scope, receive, send_observed)
                receive = _replay(body, receive)
            found = self.direct.find(method, path)
            if found is not None and not (origin and self.cors):  # CORS answers: the long way
                call, params = found
                return await call(scope, receive, send_observed, params)
            await self.app(scope, receive, send_observed)
        except Gone:  # nothing was sent, nor is counted: the server says what it answered
            gone = True
        except coding.Undecodable as exc:
            answer = encode(body_for(path, str(exc)), 400)
            answer.headers["Connection"] = "close"
            await _answer(answer, scope, receive, send_observed)
        except Exception:
            request.route = getattr(scope.get("route"), "path", None) or request.route
            log.exception("unhandled error on %s %s", method, path)
            if request.status is None:  # nothing sent yet: the client gets the JSON 500
                await _answer(encode(body_for(path, "internal error"), 500), scope, receive,
                              send_observed)  # fmt: skip
            request.status = request.status or 500
        finally:
            if not gone:
                self.record(scope, request, method)

    def refuse(self, method, path, auth, auths, preflight, length, ctype, chunked) -> Any:
        """The answer for a request refused before the app sees it, or None."""
        if self.key is not None and not path.startswith(OPEN_PATHS):
            cors_preflight = method == "OPTIONS" and preflight and self.settings.cors_origins
            if auths > 1:
                return encode(body_for(path, "send one Authorization header, not several"), 400)
            if not cors_preflight and not _authorized(auth, self.key):
                message = "missing or wrong API key: send Authorization: Bearer <key>"
                body = body_for(path, message)
                answer = encode(body, 401)
                answer.headers["WWW-Authenticate"] = "Bearer"
                return answer
        if length is not None:
            size = whole(length.decode("latin-1"))
            if size is None:
                return encode(body_for(path, "Content-Length must be a number of bytes"), 400)
            if size > self.settings.max_body_bytes:
                return _too_large(path, self.settings)
        has_body = chunked or (length is not None and length != b"0")
        needs_json = method in BODY_METHODS and has_body and not path.startswith(ANY_CONTENT_TYPE)
        if needs_json and (ctype is None or not is_json(ctype)):
            message = "the request body must be JSON: send Content-Type: application/json"
            answer = encode(body_for(path, message), 415)
            answer.headers["Connection"] = "close"
            return answer
        return None

    def record(self, scope: Scope, request: context.Request, method: str) -> None:
        route = getattr(scope.get("route"), "path", None) or request.route
        status = request.status or 500
        key = (route, method, status)
        counter = self.counters.get(key)
        if counter is None:
            counter = self.counters[key] = metrics.HTTP_REQUESTS.labels(route, method, str(status))
        counter.inc()
        timer = self.timers.get(key[:2])
        if timer is None:
            timer = self.timers[key[:2]] = metrics.HTTP_LATENCY.labels(route, method)
        timer.observe(time.perf_counter() - request.start)


def _unreadable(
    path: str,
    clash: str | None,
    hosts: int,
    version: str,
    transfer: Sequence[bytes],
    codings: Sequence[bytes],
) -> Any:
    """The refusal of a request whose headers cannot be read one way (RFC 9112 3.2, 6.1, 6.3;
    RFC 9110 8.4, 15.5.16), or None."""
    if clash is not None:
        message = f"send one {clash} header: it is given twice with different values"
        return _closing(encode(body_for(path, message), 400))
    if hosts > 1 or (hosts == 0 and version == "1.1"):
        message = "send one Host header" if hosts else "an HTTP/1.1 request must send Host"
        return _closing(encode(body_for(path, message), 400))
    unknown = [c for c in coding.tokens(transfer) if c != b"chunked"]
    if unknown:
        name = unknown[0].decode("latin-1")
        message = f"Transfer-Encoding {name!r} is not implemented: send the body chunked alone"
        return _closing(encode(body_for(path, message), 501))
    unknown = [c for c in coding.tokens(codings) if c not in coding.DECODERS]
    if unknown:
        name, known = unknown[0].decode("latin-1"), ", ".join(coding.NAMES)
        message = f"Content-Encoding {name!r} is not supported: send {known}"
        answer = _closing(encode(body_for(path, message), 415))
        answer.headers["Accept-Encoding"] = "gzip, deflate"  # RFC 9110 12.5.3
        return answer
    return None


def _closing(answer: Any) -> Any:
    answer.headers["Connection"] = "close"  # the body, if any, is not read
    return answer


def _decoded_scope(scope: Scope, body: bytes | None) -> Scope:
    """The scope the app sees for a decoded body: no Content-Encoding, its decoded length."""
    drop = (b"content-encoding", b"content-length", b"transfer-encoding")
    headers = [(n, v) for n, v in scope["headers"] if n not in drop]
    if body is not None:
        headers.append((b"content-length", str(len(body)).encode()))
    return {**scope, "headers": headers}


def _authorized(header: bytes | None, key: bytes) -> bool:
    scheme, _, given = (header or b"").partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), key)


def _too_large(path: str, settings: GateSettings) -> Any:
    message = f"the request body is larger than the limit of {settings.max_body_bytes} bytes"
    answer = encode(body_for(path, message), 413)
    return _closing(answer)  # the unread body cannot be skipped on this connection


async def _answer(response: Any, scope: Scope, receive: Receive, send: Send) -> None:
    await response(scope, receive, send)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as the bytes read pass the limit."""
    message = await receive()
    if message["type"] != "http.request":
        raise Gone
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return body if len(body) <= limit else None
    chunks, seen = [body], len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] != "http.request":
            raise Gone
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


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
