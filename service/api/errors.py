"""The native error body, `{"error": "...", "detail": [...]}`, and the one function rendering it.

Every error reaches a client through `render`: the core's `ServiceError`s (their status is
on the class), pydantic's validation errors (422, one `detail` item each, the field path and
the rule), and Starlette's HTTP errors (404, 405). Paths and messages never echo more than a
short prefix of what the client sent.
"""

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException

from service.core.errors import ECHO, InputError, Overloaded, ServiceError, format_loc
from service.core.errors import short as echo
from service.protocols import tfserving
from service.protocols.errors import TF_SERVING_PATH, body_for, error_body, kind_of

log = logging.getLogger(__name__)

_UNION_TAGS = {"window", "windows"}  # tags of the single/nested union: not part of the path

# pydantic error type -> message template, filled from the error's `ctx`
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not an allowed field",
    "finite_number": "must be a finite number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be an integer",
    "string_type": "must be a string",
    "greater_than": "must be greater than {gt:g}",
    "greater_than_equal": "must be greater than or equal to {ge:g}",
    "less_than_equal": "must be less than or equal to {le:g}",
    "too_short": "must hold at least {min_length} item(s) (got {actual_length})",
    "too_long": "must hold at most {max_length} item(s) (got {actual_length})",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    # pydantic's own date messages can echo the input ("NaN values not permitted")
    "date_type": "must be a date, YYYY-MM-DD",
    "date_parsing": "must be a date, YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date, YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date, YYYY-MM-DD",
}


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. ["body", "rows", 3, "close"]')
    msg: str = Field(description="The rule broken, e.g. 'must be greater than 0'")


class ErrorBody(BaseModel):
    """The one error body of every 4xx and 5xx answer."""

    error: str = Field(description="One line: the field and the rule, or the reason")
    detail: list[ErrorItem] = Field(description="Every validation error (422); else empty")


# status -> when it is answered; `responses(...)` documents them in OpenAPI
STATUSES = {
    400: "A request the protocol cannot read (e.g. several Authorization headers)",
    401: "API_KEY is set and the request lacks `Authorization: Bearer <key>`",
    404: "No model of that name",
    413: "The body is larger than MAX_BODY_BYTES (refused before it is parsed)",
    415: "A body whose Content-Type is not application/json",
    422: "Invalid input: the message names the field and the rule",
    429: "The model's request queue is full; retry after Retry-After seconds",
    503: "The model is not loaded, or the service is still starting",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, each with the one error body."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {"model": ErrorBody, "description": STATUSES[status]}
        if status == 429:
            retry = {"description": "Seconds to wait", "schema": {"type": "integer"}}
            out[status]["headers"] = {"Retry-After": retry}
    return out


_NO_ROUTE = ("Not Found", "Method Not Allowed")  # Starlette's words when no route matches


def route_path(scope: Any) -> str:
    """The path below the root path (`--root-path`), as Starlette's router matches it."""
    path, root = scope["path"], scope.get("root_path")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :] or "/"
    return path


def short(value: Any) -> str | int:
    """A path part or value as it may appear in an answer: at most ECHO characters."""
    return value if isinstance(value, int) else echo(value)


def format_msg(err: dict[str, Any]) -> str:
    """A short message for one pydantic error, e.g. `must be greater than 0`."""
    template = _MESSAGES.get(err.get("type", ""))
    try:
        message = template.format(**err.get("ctx", {})) if template else _plain(err["msg"])
    except (KeyError, ValueError):
        message = _plain(err["msg"])
    return str(short(message)) if len(message) > 4 * ECHO else message


def _plain(msg: str) -> str:
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg.replace("Input should be", "must be", 1)


def detail(err: dict[str, Any], root: str = "body") -> dict[str, Any]:
    """One `{"loc", "msg"}` item; JSON syntax errors point at the body, with the position."""
    path = [p for p in err["loc"] if p != root]
    # a tag follows the field holding the union; first, it is a field's own name (`windows`)
    loc = [short(p) for i, p in enumerate(path) if not (i and p in _UNION_TAGS)]
    if err.get("type") == "json_invalid":
        error = err.get("ctx", {}).get("error", "syntax error")
        return {"loc": [root], "msg": f"is not valid JSON ({error})"}
    if not loc and err.get("type") == "missing":
        return {"loc": [root], "msg": "is required: send a JSON object"}
    return {"loc": [root, *loc], "msg": format_msg(err)}


def validation_details(exc: ValidationError | RequestValidationError) -> list[dict[str, Any]]:
    return [detail(err) for err in exc.errors()]


def _message(items: list[dict[str, Any]]) -> str:
    first = items[0] if items else {"loc": ["body"], "msg": "is invalid"}
    loc = first["loc"][1:] if first["loc"][:1] == ["body"] else first["loc"]
    message = f"{format_loc(tuple(loc))}: {first['msg']}"
    return message + (f" (and {len(items) - 1} more)" if len(items) > 1 else "")


def render(exc: Exception, method: str = "", path: str = "") -> JSONResponse:
    """The native answer to any error of a request; `path` is below the root path."""
    if isinstance(exc, ValidationError | RequestValidationError):
        items = validation_details(exc)
        return JSONResponse(error_body(_message(items), items), 422)
    if isinstance(exc, InputError):
        item = {"loc": ["body", *(short(p) for p in exc.loc)], "msg": exc.msg}
        return JSONResponse(error_body(_message([item]), [item]), 422)
    if isinstance(exc, Overloaded):
        headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(error_body(exc.message), kind_of(exc).native, headers=headers)
    if isinstance(exc, ServiceError):
        return JSONResponse(error_body(exc.message), kind_of(exc).native)
    if isinstance(exc, HTTPException):
        # TF Serving's server hands it every path under /v1/, matched or not
        no_route = exc.status_code in (404, 405) and exc.detail in _NO_ROUTE
        if no_route and path.startswith(TF_SERVING_PATH):
            malformed = tfserving.malformed(method, path)  # TF Serving's answer to such a path
            return JSONResponse({"error": malformed.message}, kind_of(malformed).http)
        message = f"{str(exc.detail).lower()}: {method} {short(path)}"
        # no such route of v2: in its body
        return JSONResponse(body_for(path, message), exc.status_code, headers=exc.headers)
    raise exc


def install(app: FastAPI) -> None:
    """Route every expected error through `render` (unexpected ones: service.api.gate)."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return render(exc, request.method, route_path(request.scope))

    for kind in (RequestValidationError, ValidationError, ServiceError, HTTPException):
        app.add_exception_handler(kind, handler)


def error_only(exc: Exception) -> Response | None:
    """The `{"error": "..."}` answer TF Serving and the Open Inference Protocol share, with
    the status of the error's kind (service.protocols.errors: 400 for any input rule), 429
    with Retry-After; None if not ours."""
    if isinstance(exc, ValidationError | RequestValidationError):
        item = detail(exc.errors()[0])
        return JSONResponse({"error": f"{format_loc(tuple(item['loc'][1:]))}: {item['msg']}"}, 400)
    if isinstance(exc, ServiceError):
        answer = JSONResponse({"error": exc.message}, kind_of(exc).http)
        if isinstance(exc, Overloaded):
            answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
    return None


def route_class(render: Callable[[Exception, str, str], Response]) -> type[APIRoute]:
    """An APIRoute whose errors its protocol's `render` answers (it re-raises what is none of
    the expected errors: the gate logs it and answers 500)."""
    handle = render

    class Rendered(APIRoute):
        # read by service.api.direct, which calls such a route without this wrapper
        render = staticmethod(handle)

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                try:
                    return await handler(request)
                except Exception as exc:
                    return render(exc, request.method, route_path(request.scope))

            return route

    return Rendered


def error_only_responses(model: type[BaseModel], invalid: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a protocol answering `{"error": ...}` (`model`) as `error_only`."""
    described = {400: invalid, 404: "No such model or version", 429: "The model's queue is full",
                 503: "The model is not loaded"}  # fmt: skip
    return {status: {"model": model, "description": text} for status, text in described.items()}
