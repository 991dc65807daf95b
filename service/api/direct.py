"""The hot routes, called straight from the gate: no routing walk, no dependency solving, no
exception-middleware layers.

A route may be listed here when FastAPI would do nothing for it but call its endpoint: an
endpoint that takes the `Request` and only string path parameters, has no dependencies,
reads and validates its own body and returns a `Response` (the native prediction routes,
service.api.native.predict, and the Open Inference Protocol's, service.api.kserve.infer).
Its errors are answered by the protocol's one `render` function, as the route's error
handling would answer them, so the bytes are the same either way
(tests/service/test_direct.py). FastAPI still declares the routes, so the OpenAPI
document, `/docs` and every other route are unchanged. Each such request skips about a
quarter of the per-request Python work of the stack (docs/performance.md).
"""

import re
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[..., Awaitable[Response]]  # (request, **path parameters) -> the answer
Render = Callable[[Exception, str, str], Response]  # the error, method, path -> the answer
Call = Callable[[Scope, Receive, Send, dict[str, str]], Awaitable[None]]
_PARAM = re.compile(r"{(\w+)}")


class Route:
    """What the gate's metrics and the access fields read of a route: its path template."""

    def __init__(self, path: str) -> None:
        self.path = path


class Table:
    """The routes the gate calls directly: fixed paths by lookup, templates by their pattern
    (a `{param}` is one path segment, or part of one, as Starlette's `str` convertor)."""

    def __init__(self) -> None:
        self.fixed: dict[tuple[str, str], Call] = {}
        self.templates: list[tuple[str, re.Pattern, Call]] = []

    def add(self, endpoints: dict[tuple[str, str], Endpoint], render: Render) -> "Table":
        """Each `(method, path template) -> endpoint`, its errors answered by `render`."""
        for (method, path), endpoint in endpoints.items():
            call = _call(endpoint, Route(path), render)
            if _PARAM.search(path) is None:
                self.fixed[(method, path)] = call
            else:
                parts = _PARAM.split(path)  # literal, name, literal, name, ..., literal
                pattern = "".join(
                    re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                    for i, part in enumerate(parts)
                )
                self.templates.append((method, re.compile(pattern), call))
        return self

    def find(self, method: str, path: str) -> tuple[Call, dict[str, str]] | None:
        call = self.fixed.get((method, path))
        if call is not None:
            return call, {}
        for wanted, pattern, call in self.templates:
            if wanted == method and (match := pattern.fullmatch(path)) is not None:
                return call, match.groupdict()
        return None


def _call(endpoint: Endpoint, route: Route, render: Render) -> Call:
    async def call(scope: Scope, receive: Receive, send: Send, params: dict[str, str]) -> None:
        scope["route"] = route
        scope["path_params"] = params
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request, **params)
        except Exception as exc:
            response = render(exc, scope["method"], scope["path"])  # re-raises what is not ours
        await response(scope, receive, send)

    return call
