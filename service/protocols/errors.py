"""Every error kind the core raises -> its HTTP status and its gRPC status code, side by side.

The one table both transports read (docs/protocols.md shows it): REST answers `http` (the
native routes answer `native` where it differs: 422 for a rule broken by the body, as
pydantic's validation errors), gRPC answers the code named `grpc` (service.grpc.errors turns
the name into `grpc.StatusCode`; no gRPC import here).
"""

from dataclasses import dataclass
from typing import Any

from service.core.errors import ServiceError


@dataclass(frozen=True, slots=True)
class Kind:
    http: int
    grpc: str
    native: int


KINDS: dict[str, Kind] = {
    "invalid_argument": Kind(400, "INVALID_ARGUMENT", 422),
    "not_found": Kind(404, "NOT_FOUND", 404),
    "unavailable": Kind(503, "UNAVAILABLE", 503),
    "resource_exhausted": Kind(429, "RESOURCE_EXHAUSTED", 429),
    "too_large": Kind(413, "RESOURCE_EXHAUSTED", 413),
    "unauthenticated": Kind(401, "UNAUTHENTICATED", 401),
    "unimplemented": Kind(501, "UNIMPLEMENTED", 501),
    "internal": Kind(500, "INTERNAL", 500),
}


class BadRequest(ServiceError):
    """A message that breaks a rule of the protocol itself (a missing input, a wrong dtype)."""

    code = "invalid_argument"


class Unimplemented(ServiceError):
    """A method of the protocol that this service does not offer."""

    code = "unimplemented"


TF_SERVING_PATH, V2_PATH = "/v1/", "/v2/"  # where each protocol's routes live
PROTOCOL_PATHS = (TF_SERVING_PATH, V2_PATH)  # their clients read `{"error"}`


def is_protocol(path: str) -> bool:
    """Under TF Serving's `/v1` or the Open Inference Protocol's `/v2` (a path below the root
    path): their clients read `{"error": "..."}`, the native ones `{"error", "detail"}`."""
    return path.startswith(PROTOCOL_PATHS) or f"{path}/" in PROTOCOL_PATHS


def error_body(message: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The native error body: the message and what broke where (pydantic's locations)."""
    return {"error": message, "detail": detail or []}


def body_for(path: str, message: str) -> dict[str, Any]:
    """The error body a client of `path` reads: its protocol's, else the native one."""
    return {"error": message} if is_protocol(path) else error_body(message)


def kind_of(exc: ServiceError) -> Kind:
    """The statuses of an error (INTERNAL for a kind the table lacks)."""
    return KINDS.get(exc.code, KINDS["internal"])
