"""The one server interceptor: API key, the core's errors as status codes, metrics.

Closed by default, as the REST gate: with a key configured, every method needs the
`authorization: Bearer <key>` metadata except the health service (probes send none) and
server reflection (it tells only the message types, which the repository's .proto files
show anyway). Other streaming methods are answered UNIMPLEMENTED. A request message that
does not parse is INVALID_ARGUMENT, counted, without a traceback in the log.
"""

import hmac
import logging
import time
from collections.abc import Awaitable, Callable

import grpc

from service.core.errors import ServiceError, Unauthenticated
from service.core.metrics import GRPC_LATENCY, GRPC_REQUESTS
from service.grpc.errors import status_of
from service.protocols.errors import BadRequest

log = logging.getLogger("service.grpc")

OPEN = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/",
        "/grpc.reflection.v1.ServerReflection/")  # fmt: skip
CORRUPT = object()  # what the lenient deserializer gives for bytes that are no such message

Behavior = Callable[[object, grpc.aio.ServicerContext], Awaitable[object]]


def authorized(metadata, key: bytes) -> bool:
    """`authorization: Bearer <key>`, compared in constant time."""
    header = next((v for k, v in metadata or () if k == "authorization"), "")
    scheme, _, given = str(header).partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key)


async def _refuse(request, context: grpc.aio.ServicerContext):
    raise Unauthenticated("missing or wrong API key: send authorization: Bearer <key>")


def _counted(method: str, behavior: Behavior) -> Behavior:
    """The call, counted (before the answer leaves, so a test can read it right after)."""

    async def call(request, context: grpc.aio.ServicerContext):
        start = time.perf_counter()

        def count(code: grpc.StatusCode) -> None:
            GRPC_REQUESTS.labels(method, code.name).inc()
            GRPC_LATENCY.labels(method).observe(time.perf_counter() - start)

        try:
            if request is CORRUPT:
                raise BadRequest(f"the request is not a valid {method} message (protobuf)")
            response = await behavior(request, context)
        except ServiceError as exc:
            code, details = status_of(exc)
        except grpc.aio.AbortError:  # aborted by the servicer itself (health's NOT_FOUND)
            count(context.code() or grpc.StatusCode.UNKNOWN)
            raise
        except Exception:
            log.exception("unhandled error in %s", method)
            code, details = grpc.StatusCode.INTERNAL, "internal error"
        else:
            count(grpc.StatusCode.OK)
            return response
        count(code)
        await context.abort(code, details)

    return call


def _lenient(deserialize):
    """The message's deserializer, giving CORRUPT instead of raising (grpc would log the
    traceback and answer UNKNOWN before any interceptor sees the call)."""
    if deserialize is None:
        return None

    def read(data: bytes):
        try:
            return deserialize(data)
        except Exception:  # protobuf's DecodeError, or a message that fails to merge
            return CORRUPT

    return read


class Gate(grpc.aio.ServerInterceptor):
    def __init__(self, key: bytes | None) -> None:
        self.key = key

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        is_open = details.method.startswith(OPEN)
        if handler is None or handler.unary_unary is None:
            return handler if is_open else None  # None: UNIMPLEMENTED
        behavior = handler.unary_unary
        if (
            self.key is not None
            and not is_open
            and not authorized(details.invocation_metadata, self.key)
        ):
            behavior = _refuse
        return grpc.unary_unary_rpc_method_handler(
            _counted(details.method.lstrip("/"), behavior),
            request_deserializer=_lenient(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
