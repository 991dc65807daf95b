"""The gate of every gRPC method: API key, the core's errors as status codes, metrics.

Closed by default, as the REST gate: with a key configured, every method needs the
`authorization: Bearer <key>` metadata except the health service (probes send none) and
server reflection (it tells only the message types, which the repository's .proto files
show anyway; it is added to the server directly, not through the gate). A request message
that does not parse is INVALID_ARGUMENT, counted, without a traceback in the log.

Each method's handler is wrapped once, when its service is added (`Gate.add`), not by a
server interceptor: grpc.aio runs an interceptor in Python on every call, before it can
find the method, which cost more than the servicer's own work on ModelInfer (the
benchmark, docs/performance.md). Wrapped this way, grpc finds the method among its
registered ones (no Python lookup) and the gate is one coroutine around the servicer's.
Methods that no service registers are answered UNIMPLEMENTED by grpc itself; streaming
methods (health's Watch) pass unwrapped.
"""

import hmac
import logging
import time
from collections.abc import Awaitable, Callable

import grpc

from service.core.batching import alone
from service.core.errors import ServiceError, Unauthenticated
from service.core.metrics import GRPC_LATENCY, GRPC_REQUESTS
from service.grpc.errors import status_of
from service.protocols.errors import BadRequest

log = logging.getLogger("service.grpc")

OPEN = "grpc.health.v1.Health"  # the service that needs no key
CORRUPT = object()  # what the lenient deserializer gives for bytes that are no such message

Behavior = Callable[[object, grpc.aio.ServicerContext], Awaitable[object]]
AddToServer = Callable[[object, object], None]  # a generated add_*Servicer_to_server


def authorized(metadata, key: bytes) -> bool:
    """One `authorization: Bearer <key>` entry, compared in constant time; BadRequest for
    several (as REST refuses several Authorization headers: which one a proxy added first
    must not decide)."""
    entries = [v for k, v in metadata or () if k == "authorization"]
    if len(entries) > 1:
        raise BadRequest("send one authorization entry, not several")
    scheme, _, given = str(entries[0] if entries else "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key)


def gated(method: str, behavior: Behavior, key: bytes | None) -> Behavior:
    """The call, key checked and counted (before the answer leaves, so a test can read the
    count right after). The metric children are looked up once, not per call."""
    latency = GRPC_LATENCY.labels(method)
    counters: dict[grpc.StatusCode, object] = {}

    def count(code: grpc.StatusCode, start: float) -> None:
        counter = counters.get(code)
        if counter is None:
            counter = counters[code] = GRPC_REQUESTS.labels(method, code.name)
        counter.inc()
        latency.observe(time.perf_counter() - start)

    async def call(request, context: grpc.aio.ServicerContext):
        start = time.perf_counter()
        token = alone.set(True)  # grpc.aio hands calls over one at a time (batching)
        try:
            if key is not None and not authorized(context.invocation_metadata(), key):
                raise Unauthenticated("missing or wrong API key: send authorization: Bearer <key>")
            if request is CORRUPT:
                raise BadRequest(f"the request is not a valid {method} message (protobuf)")
            response = await behavior(request, context)
        except ServiceError as exc:
            code, details = status_of(exc)
        except grpc.aio.AbortError:  # aborted by the servicer itself (health's NOT_FOUND)
            count(context.code() or grpc.StatusCode.UNKNOWN, start)
            raise
        except Exception:
            log.exception("unhandled error in %s", method)
            code, details = grpc.StatusCode.INTERNAL, "internal error"
        else:
            count(grpc.StatusCode.OK, start)
            return response
        finally:
            alone.reset(token)
        count(code, start)
        await context.abort(code, details)

    return call


class Gate:
    """Adds services to `server` with each unary method gated (see the module's docstring)."""

    def __init__(self, server: grpc.aio.Server, key: bytes | None) -> None:
        self.server, self.key = server, key

    def add(self, add_to_server: AddToServer, servicer) -> None:
        """`add_to_server(servicer, server)` as generated, its handlers gated first."""
        add_to_server(servicer, _Registrar(self))

    def register(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        key = None if service == OPEN else self.key
        wrapped = {name: self.wrap(f"{service}/{name}", h, key) for name, h in handlers.items()}
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, wrapped),)
        )
        self.server.add_registered_method_handlers(service, wrapped)

    @staticmethod
    def wrap(method: str, handler: grpc.RpcMethodHandler, key) -> grpc.RpcMethodHandler:
        if handler.unary_unary is None:  # streaming: health's Watch
            return handler
        return grpc.unary_unary_rpc_method_handler(
            gated(method, handler.unary_unary, key),
            request_deserializer=_lenient(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )


def _lenient(deserialize):
    """The message's deserializer, giving CORRUPT instead of raising (grpc would log the
    traceback and answer UNKNOWN before the gate sees the call)."""
    if deserialize is None:
        return None

    def read(data: bytes):
        try:
            return deserialize(data)
        except Exception:  # protobuf's DecodeError, or a message that fails to merge
            return CORRUPT

    return read


class _Registrar:
    """What a generated add_*_to_server sees as the server: it keeps the registered
    handlers (gated, then added to the real server) and drops the generic copy, which
    Gate.register adds again from the gated ones."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def add_generic_rpc_handlers(self, handlers) -> None:
        pass

    def add_registered_method_handlers(self, service: str, handlers) -> None:
        self.gate.register(service, handlers)
