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
from grpc_reflection.v1alpha import reflection, reflection_pb2

from service.grpc.gate import Gate
from service.grpc.health import Health
from service.grpc.kserve import InferenceService
from service.grpc.protos import POOL, inference_pb2_grpc, tensorflow_serving_pb2_grpc
from service.grpc.tfserving import ModelService, PredictionService

log = logging.getLogger("service.grpc")

SERVICES = (  # every service on the port, as server reflection lists them
    "tensorflow.serving.PredictionService",
    "tensorflow.serving.ModelService",
    "inference.GRPCInferenceService",
    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
    reflection.SERVICE_NAME,
)


def reflected():
    """POOL with the health and reflection services' own files too, so that reflection
    describes every service on the port from one pool (the messages live in POOL)."""
    for module in (health_pb2, reflection_pb2):
        try:
            POOL.FindFileByName(module.DESCRIPTOR.name)
        except KeyError:
            POOL.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    return POOL


GRACE_S = 2  # in-flight RPCs may finish on shutdown (after the HTTP drain; see __main__)


async def serve(
    registry, settings, api_key: bytes | None = None, lifecycle=None
) -> tuple[grpc.aio.Server, Health]:
    """Start the server on the configured port; returns it and its health service.
    `lifecycle` (service.core.lifecycle) tells when the process drains."""
    limit = settings.max_body_bytes
    server = grpc.aio.server(
        options=[("grpc.max_receive_message_length", limit), ("grpc.so_reuseport", 0)],
    )
    gate = Gate(server, api_key)
    gate.add(tensorflow_serving_pb2_grpc.add_PredictionServiceServicer_to_server,
             PredictionService(registry))  # fmt: skip
    gate.add(tensorflow_serving_pb2_grpc.add_ModelServiceServicer_to_server, ModelService(registry))
    gate.add(inference_pb2_grpc.add_GRPCInferenceServiceServicer_to_server,
             InferenceService(registry, lifecycle))  # fmt: skip
    health = Health(registry, lifecycle)
    gate.add(health_pb2_grpc.add_HealthServicer_to_server, health)
    # `grpcurl list` names them; open (not gated), and looked up in the messages' own pool
    reflection.enable_server_reflection(SERVICES, server, pool=reflected())
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
