"""JSON bodies in and out: a body -> its request model in one pydantic-core pass, duplicate
keys refused; an answer -> a JSON response, encoded once.

pydantic's JSON parser (strict UTF-8, bounded nesting, numbers checked in Rust) does the work;
it keeps the last of two equal keys, so a duplicate is caught by arithmetic instead: every key
of the body is followed by a colon, so when the body holds no more colons than the parsed
model has keys, no key can have been given twice. Only when the counts differ (a duplicate,
or a colon inside a string) is the body parsed a second time, exactly, by `json.loads`.
"""

import datetime as dt
import json
from operator import attrgetter
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from starlette.responses import Response

from service.api.errors import short
from service.core.errors import InputError

M = TypeVar("M", bound=BaseModel)
_CONTAINERS: dict[type, tuple[str, ...]] = {}  # model class -> fields that may hold keys
_SCALARS = (int, float, str, bool, type(None), dt.date)
_FIELDS_SET = attrgetter("__pydantic_fields_set__")  # the keys a model was given


def bounded(body: bytes, limits: dict[bytes, int], loc: tuple, what: str) -> bytes:
    """Refuse a body that holds more of a delimiter than any valid request can, before it is
    parsed, so a body's cost is bounded by the route's limits and not only by its size (a
    1 MiB body of one-value windows took 0.45 s to parse and validate, on the event loop).
    Counting a byte in a body is a memchr: about 0.1 ms per MiB."""
    for delimiter, limit in limits.items():
        found = body.count(delimiter)
        if found > limit:
            raise InputError(loc, what + _counted(delimiter, found, loc))
    return body


def _counted(delimiter: bytes, found: int, loc: tuple) -> str:
    """What the count says: under a list field of objects (stock's rows), every '{' but the
    body's own opens one item, so the message counts items; else the delimiter itself."""
    if delimiter == b"{" and loc:
        return f", got {found - 1}"
    return f" (the body holds {found} '{delimiter.decode()}')"


def parse(model: type[M], body: bytes) -> M:
    """The validated model, or a ValidationError (rendered as a 422 by each protocol)."""
    try:
        parsed = model.model_validate_json(body)
    except ValidationError:
        if not body or body.isspace():  # no body at all: "is required", not a JSON syntax error
            missing = {"type": "missing", "loc": (), "input": None}
            raise ValidationError.from_exception_data(model.__name__, [missing]) from None
        _refuse_duplicates(body, model)  # a key given twice explains the error better
        raise
    if body.count(b":") != keys(parsed):
        _refuse_duplicates(body, model)
    return parsed


def keys(value: Any) -> int:
    """How many JSON object keys the value was built from."""
    if isinstance(value, BaseModel):
        names = value.model_fields_set
        return len(names) + sum(keys(getattr(value, f)) for f in _containers(value) if f in names)
    if isinstance(value, dict):
        return len(value) + sum(keys(v) for v in value.values() if isinstance(v, dict | list))
    if isinstance(value, list) and value:
        first = value[0]
        if isinstance(first, BaseModel) and not _containers(first):
            return sum(map(len, map(_FIELDS_SET, value)))
        if isinstance(first, BaseModel | dict | list):
            return sum(keys(v) for v in value)
    return 0


def _containers(model: BaseModel) -> tuple[str, ...]:
    """Fields of the model's class whose values can hold objects (anything but scalars)."""
    cls = type(model)
    found = _CONTAINERS.get(cls)
    if found is None:
        found = tuple(n for n, info in cls.model_fields.items() if not _scalar(info.annotation))
        _CONTAINERS[cls] = found
    return found


def _scalar(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, _SCALARS)
    if get_origin(annotation) in (Annotated, Union, UnionType):
        args = get_args(annotation)
        return all(_scalar(a) for a in (args[:1] if get_origin(annotation) is Annotated else args))
    return False


def _refuse_duplicates(body: bytes, model: type[BaseModel]) -> None:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) != len(items):
            seen: set[str] = set()
            key = next(k for k, _ in items if k in seen or seen.add(k))
            error = f"duplicate key {json.dumps(short(key))}"
            raise ValidationError.from_exception_data(
                model.__name__,
                [{"type": "json_invalid", "loc": (), "ctx": {"error": error}, "input": None}],
            )
        return found

    try:
        json.loads(body, object_pairs_hook=pairs)
    except (ValueError, RecursionError) as exc:  # not JSON: pydantic's own error says where
        if isinstance(exc, ValidationError):
            raise


def encode(content: Any, status: int = 200) -> Response:
    """A JSON response of `content` (plain lists, dicts and numbers), encoded once, in Rust:
    pydantic-core writes the same bytes as `json.dumps` (shortest round-trip floats), about
    nine times faster for an answer of a few dozen floats."""
    return Response(to_json(content), status, media_type="application/json")
