"""The hot routes, called straight from the gate: no routing walk, no dependency solving, no
exception-middleware layers.

The table is read off the app's own routes (`Table.of(app)`), never declared a second time: a
route is called directly when FastAPI would do nothing for it but call its endpoint, which its
signature shows: it takes the `Request` and string path parameters only, has no dependencies
and no query, header, cookie or body parameters, and returns a `Response` (so FastAPI neither
reads its body nor serializes its answer). Its errors get what they get through FastAPI: the
route class's own `render` if it has one (service.api.errors.route_class), else the app's
exception handler for the error's class; so the bytes are the same either way
(tests/service/test_direct.py). A route class that wraps its handler without telling how
keeps its routes on FastAPI's path. Paths are matched below the root path
(`--root-path` / `ROOT_PATH`), as Starlette's router matches them. Each such request skips
about a quarter of the per-request Python work of the stack (docs/performance.md).
"""

import inspect
import re
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from service.api.errors import route_path

Endpoint = Callable[..., Awaitable[Response]]  # (request, **path parameters) -> the answer
Render = Callable[[Exception, Request], Awaitable[Response]]  # an error -> its answer
Call = Callable[[Scope, Receive, Send, dict[str, str]], Awaitable[None]]
_PARAM = re.compile(r"{(\w+)}")


class Table:
    """The routes the gate calls directly: fixed paths by lookup, templates by their pattern
    (a `{param}` is one path segment, or part of one, as Starlette's `str` convertor)."""

    def __init__(self) -> None:
        self.fixed: dict[tuple[str, str], Call] = {}
        self.templates: list[tuple[str, str, re.Pattern, Call]] = []  # method, literal start
        self.routes: set[tuple[str, str]] = set()  # (method, path template) of each

    @classmethod
    def of(cls, app: FastAPI) -> "Table":
        """Every route of `app` that FastAPI would only call (see the module's docstring)."""
        table, earlier = cls(), []
        for route, declared in routes(app):
            if isinstance(declared, APIRoute) and plain(route) and not shadowed(route, earlier):
                render = renderer(declared, app)
                if render is not None:
                    for method in sorted(route.methods):
                        hot = Route(route.path, route.endpoint, route.dependant.request_param_name)
                        table.add(method, hot, render)
            earlier.append(route)
        return table

    def add(self, method: str, route: "Route", render: Render) -> "Table":
        """`route` (its `path` template and `endpoint`) for `method`, errors to `render`."""
        call = _call(route, render)
        self.routes.add((method, route.path))
        if _PARAM.search(route.path) is None:
            self.fixed[(method, route.path)] = call
        else:
            parts = _PARAM.split(route.path)  # literal, name, literal, name, ..., literal
            pattern = "".join(
                re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                for i, part in enumerate(parts)
            )
            self.templates.append((method, parts[0], re.compile(pattern), call))
        return self

    def find(self, method: str, path: str) -> tuple[Call, dict[str, str]] | None:
        call = self.fixed.get((method, path))
        if call is not None:
            return call, {}
        for wanted, start, pattern, call in self.templates:  # a string test before a regex
            if wanted == method and path.startswith(start) and (match := pattern.fullmatch(path)):
                return call, match.groupdict()
        return None


class Route:
    """What the gate's metrics and the access fields read of a route: its path template."""

    def __init__(self, path: str, endpoint: Endpoint, request_name: str = "request") -> None:
        self.path, self.endpoint, self.request_name = path, endpoint, request_name


def routes(app: FastAPI) -> list[tuple[Any, Any]]:
    """(route as served, route as declared) for every route of `app`, included routers' too.
    FastAPI 0.16x keeps included routers whole in `app.routes` and lists their routes, with
    the prefix and dependencies they are served with, through `iter_route_contexts`."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # older FastAPI: `app.routes` holds every route, flattened
        return [(route, route) for route in app.routes]
    return [(context, context.original_route) for context in contexts(app.routes)]


def shadowed(route: Any, earlier: list[Any]) -> bool:
    """True when a route declared before `route` may take some of its requests (the router
    tries routes in order): then FastAPI's routing decides, as it always did."""
    sample = _PARAM.sub("_", route.path)
    for other in earlier:
        regex, methods = getattr(other, "path_regex", None), getattr(other, "methods", None)
        matches = regex is None or regex.match(sample) or regex.match(route.path)
        if matches and (methods is None or methods & route.methods):
            return True
    return False


def plain(route: Any) -> bool:
    """True when FastAPI would only call the endpoint: `Request` and `str` path parameters in,
    a `Response` out, nothing to solve, read or serialize."""
    need = route.dependant
    if (
        need.dependencies
        or need.query_params
        or need.header_params
        or need.cookie_params
        or need.body_params
        or need.request_param_name is None
        or need.response_param_name is not None
        or need.background_tasks_param_name is not None
        or any(p.field_info.annotation is not str for p in need.path_params)
    ):
        return False
    returned = typing.get_type_hints(route.endpoint).get("return")
    return inspect.isclass(returned) and issubclass(returned, Response)


def renderer(route: Any, app: FastAPI) -> Render | None:
    """The answer FastAPI would give to an error of `route`; None if that cannot be known."""
    own = None
    if type(route) is not APIRoute:
        own = getattr(type(route), "render", None)
        if own is None:
            return None  # a wrapper that does not say what it does: the long way

    async def render(exc: Exception, request: Request) -> Response:
        if own is not None:
            try:
                return own(exc, request.method, route_path(request.scope))
            except Exception as unexpected:  # none of the protocol's: as FastAPI, the app's
                if unexpected is not exc:
                    raise
        handler = _handler(exc, app.exception_handlers)
        if handler is None:
            raise exc  # the gate's JSON 500
        answer = handler(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    return render


def _handler(exc: Exception, handlers: dict[Any, Callable]) -> Callable | None:
    """The app's handler for `exc`, looked up as Starlette's ExceptionMiddleware does."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    return next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)


def _call(route: Any, render: Render) -> Call:
    endpoint, name = route.endpoint, route.request_name

    async def call(scope: Scope, receive: Receive, send: Send, params: dict[str, str]) -> None:
        scope["route"] = route
        scope["path_params"] = params
        request = Request(scope, receive, send)
        try:
            response = await endpoint(**{name: request}, **params)
        except Exception as exc:
            response = await render(exc, request)
        await response(scope, receive, send)

    return call
