"""The hot routes, called straight from the gate: no routing walk, no dependency solving, no
exception-middleware layers.

A route may be listed here when FastAPI would do nothing for it but call its endpoint: a
fixed path, an endpoint that takes only the `Request`, has no dependencies, reads and
validates its own body and returns a `Response` (the prediction routes,
service.api.native.predict). Its errors are answered by the protocol's one `render`
function, as the app's exception handlers answer them, so the bytes are the same either
way (tests/service/test_direct.py). FastAPI still declares the routes, so the OpenAPI
document, `/docs` and every other route are unchanged. Each such request skips about a
quarter of the per-request Python work of the stack (docs/performance.md).
"""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
Render = Callable[[Exception, str, str], Response]  # the error, method, path -> the answer
Call = Callable[[Scope, Receive, Send], Awaitable[None]]


class Route:
    """What the gate's metrics and the access fields read of a route: its path template."""

    def __init__(self, path: str) -> None:
        self.path = path


def calls(
    endpoints: dict[tuple[str, str], Endpoint], render: Render
) -> dict[tuple[str, str], Call]:
    """`(method, path) -> an ASGI call` of each endpoint, its errors answered by `render`."""
    return {key: _call(endpoint, Route(key[1]), render) for key, endpoint in endpoints.items()}


def _call(endpoint: Endpoint, route: Route, render: Render) -> Call:
    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Exception as exc:
            response = render(exc, scope["method"], scope["path"])  # re-raises what is not ours
        await response(scope, receive, send)

    return call
