"""The core's errors as gRPC status codes, read from the one table (service.protocols.errors)."""

import grpc

from service.core.errors import ServiceError
from service.protocols.errors import KINDS, BadRequest, Unimplemented, kind_of

__all__ = ["STATUS", "BadRequest", "Unimplemented", "status_of"]

STATUS = {kind: grpc.StatusCode[k.grpc] for kind, k in KINDS.items()}


def status_of(exc: ServiceError) -> tuple[grpc.StatusCode, str]:
    """The status code and details of an error raised by the core or a codec."""
    return grpc.StatusCode[kind_of(exc).grpc], exc.message
