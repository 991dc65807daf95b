"""The core's errors as gRPC status codes: one table, one function."""

import grpc

from service.core.errors import InputError, ServiceError

STATUS = {
    "invalid_argument": grpc.StatusCode.INVALID_ARGUMENT,
    "not_found": grpc.StatusCode.NOT_FOUND,
    "unavailable": grpc.StatusCode.UNAVAILABLE,
    "resource_exhausted": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "unauthenticated": grpc.StatusCode.UNAUTHENTICATED,
    "internal": grpc.StatusCode.INTERNAL,
    "unimplemented": grpc.StatusCode.UNIMPLEMENTED,  # only raised here (Unimplemented)
}


class BadRequest(ServiceError):
    """A message that breaks a rule of the protocol itself (a missing input, a wrong dtype)."""

    status, code = 400, "invalid_argument"


class Unimplemented(ServiceError):
    """An RPC of the protocol that this service does not offer."""

    status, code = 501, "unimplemented"


def status_of(exc: ServiceError) -> tuple[grpc.StatusCode, str]:
    """The status code and details of an error raised by the core or an adapter."""
    return STATUS.get(exc.code, grpc.StatusCode.INTERNAL), exc.message


def input_error(exc: InputError, tensor: str) -> BadRequest:
    """An input rule broken at `loc` inside the tensor named `tensor`: `window[0][3].close`."""
    where = tensor + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.loc)
    return BadRequest(f"{where}: {exc.msg}")
