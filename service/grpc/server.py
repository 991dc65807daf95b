"""The gRPC server on GRPC_HOST:GRPC_PORT, started and stopped by the app's lifespan.

One `grpc.aio` server in the app's event loop, so every RPC reaches the same registry and
micro-batchers as the REST routes. A request message larger than MAX_BODY_BYTES is refused
(RESOURCE_EXHAUSTED), as REST refuses such a body with 413.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc
from tritonclient.grpc import service_pb2_grpc

from service.grpc.gate import Gate
from service.grpc.health import Health
from service.grpc.kserve import InferenceService
from service.grpc.tfserving import ModelService, PredictionService

log = logging.getLogger("service.grpc")

SERVICES = (  # every service on the port, as server reflection lists them
    "tensorflow.serving.PredictionService",
    "tensorflow.serving.ModelService",
    "inference.GRPCInferenceService",
    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
    reflection.SERVICE_NAME,
)
GRACE_S = 2  # in-flight RPCs may finish on shutdown (after the HTTP drain; see __main__)


async def serve(
    registry, settings, api_key: bytes | None = None, lifecycle=None
) -> tuple[grpc.aio.Server, Health]:
    """Start the server on the configured port; returns it and its health service.
    `lifecycle` (service.core.lifecycle) tells when the process drains."""
    limit = settings.max_body_bytes
    server = grpc.aio.server(
        interceptors=[Gate(api_key)],
        options=[("grpc.max_receive_message_length", limit), ("grpc.so_reuseport", 0)],
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(registry), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(registry), server)
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
        InferenceService(registry, lifecycle), server
    )
    health = Health(registry, lifecycle)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(SERVICES, server)  # `grpcurl list` names them
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    server.add_insecure_port(address)  # raises RuntimeError if the port is taken
    await health.refresh()
    await server.start()
    log.info("gRPC on %s (TF Serving, Open Inference Protocol, health, reflection)", address)
    return server, health


@asynccontextmanager
async def running(
    registry, settings, api_key: bytes | None = None, lifecycle=None
) -> AsyncIterator[grpc.aio.Server | None]:
    """The server while the block runs, if GRPC_PORT is set; on exit health turns
    NOT_SERVING, new calls are refused and calls in flight get GRACE_S to finish."""
    if not settings.grpc_port:
        yield None
        return
    server, health = await serve(registry, settings, api_key, lifecycle)
    try:
        yield server
    finally:
        await health.enter_graceful_shutdown()
        await server.stop(GRACE_S)
        log.info("gRPC stopped")
