"""The one JSON error body, `{"error": "...", "detail": [...]}`, and the handlers producing it."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from service.context import request_id

log = logging.getLogger(__name__)

# pydantic error type -> message template, filled from the error's `ctx`
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not an allowed field",
    "finite_number": "must be a finite number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "greater_than": "must be greater than {gt:g}",
    "greater_than_equal": "must be greater than or equal to {ge:g}",
    "less_than_equal": "must be less than or equal to {le:g}",
    "too_short": "must hold at least {min_length} item(s) (got {actual_length})",
    "too_long": "must hold at most {max_length} item(s) (got {actual_length})",
    "list_type": "must be a list",
    "model_attributes_type": "must be a JSON object",
    # pydantic's own date messages can echo the input ("NaN values not permitted")
    "date_type": "must be a date, YYYY-MM-DD",
    "date_parsing": "must be a date, YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date, YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date, YYYY-MM-DD",
}
_UNION_TAGS = {"window", "windows"}  # tags of the single/nested union: not part of the path


class InputError(Exception):
    """A request that passed the schema but breaks a rule of the model serving it (422)."""

    def __init__(self, loc: list[str | int], msg: str) -> None:
        super().__init__(msg)
        self.loc, self.msg = ["body", *loc], msg


class ModelUnavailable(Exception):
    """The endpoint's model is not loaded (503)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"model '{name}' is not available: no loadable version was found")


class NotReady(ModelUnavailable):
    """No registry yet: the service is still starting (503)."""

    def __init__(self) -> None:
        Exception.__init__(self, "the service is not ready: models are not loaded yet")


class Overloaded(Exception):
    """The model's request queue is full (429, with Retry-After in seconds)."""

    def __init__(self, name: str, retry_after: int = 1) -> None:
        super().__init__(f"model '{name}' is overloaded: its request queue is full; retry later")
        self.retry_after = retry_after


class ModelNotFound(Exception):
    """No model of that name exists (404)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"model '{name}' not found")


def format_loc(loc: list[Any]) -> str:
    """`["body", "rows", 3, "close"]` -> `rows[3].close`."""
    out = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "body"


def format_msg(err: dict[str, Any]) -> str:
    """A short message for one pydantic error, e.g. `must be greater than 0`."""
    template = _MESSAGES.get(err.get("type", ""))
    try:
        return template.format(**err.get("ctx", {})) if template else _plain(err["msg"])
    except (KeyError, ValueError):
        return _plain(err["msg"])


def _plain(msg: str) -> str:
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg.replace("Input should be", "must be", 1)


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. ["body", "rows", 3, "close"]')
    msg: str = Field(description="The rule broken, e.g. 'must be greater than 0'")


class ErrorBody(BaseModel):
    """The one error body of every 4xx and 5xx answer."""

    error: str = Field(description="One line: the field and the rule, or the reason")
    detail: list[ErrorItem] = Field(description="Every validation error (422); else empty")


# status -> when it is answered; `responses(...)` documents them in OpenAPI
STATUSES = {
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


def error_body(message: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": message, "detail": detail or []}


def _response(status: int, message: str, detail: list[dict[str, Any]] | None = None):
    return JSONResponse(error_body(message, detail), status_code=status)


def _detail(err: dict[str, Any]) -> dict[str, Any]:
    """One `{"loc", "msg"}` item; JSON syntax errors point at the body, with the position."""
    loc = [p for p in err["loc"] if p not in _UNION_TAGS]
    if err.get("type") == "json_invalid":
        error = err.get("ctx", {}).get("error", "syntax error")
        where = f" at character {loc[-1]}" if isinstance(loc[-1], int) else ""  # in `error`
        return {"loc": ["body"], "msg": f"is not valid JSON ({error}{where})"}
    if loc == ["body"] and err.get("type") == "missing":
        return {"loc": loc, "msg": "is required: send a JSON object"}
    return {"loc": loc, "msg": format_msg(err)}


def _validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    detail = [_detail(err) for err in errors]
    first = detail[0] if detail else {"loc": ["body"], "msg": "is invalid"}
    message = f"{format_loc(first['loc'])}: {first['msg']}"
    if len(detail) > 1:
        message += f" (and {len(detail) - 1} more)"
    return _response(422, message, detail)


def install(app: FastAPI) -> None:
    """Register the handlers so every error, expected or not, has the one body."""

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(list(exc.errors()))

    @app.exception_handler(InputError)
    async def on_input(_: Request, exc: InputError) -> JSONResponse:
        return _validation_response([{"loc": exc.loc, "msg": exc.msg}])

    @app.exception_handler(ModelUnavailable)
    async def on_unavailable(_: Request, exc: ModelUnavailable) -> JSONResponse:
        return _response(503, str(exc))

    @app.exception_handler(Overloaded)
    async def on_overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return JSONResponse(
            error_body(str(exc)), 429, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(ModelNotFound)
    async def on_not_found(_: Request, exc: ModelNotFound) -> JSONResponse:
        return _response(404, str(exc))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        message = f"{str(exc.detail).lower()}: {request.method} {request.url.path}"
        return JSONResponse(error_body(message), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # sent from outside every middleware: the request ID header is added here
        rid = {"X-Request-ID": request_id.get()}
        return JSONResponse(error_body("internal error"), 500, headers=rid)
