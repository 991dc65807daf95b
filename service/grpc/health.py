"""The standard gRPC health service: SERVING while the registry is ready, NOT_SERVING once
the server drains (and while no model is loaded)."""

from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio

SERVICES = (  # "" is the whole server, as Kubernetes' gRPC probes ask by default
    "",
    "tensorflow.serving.PredictionService",
    "tensorflow.serving.ModelService",
    "inference.GRPCInferenceService",
)
SERVING, NOT_SERVING = (
    health_pb2.HealthCheckResponse.SERVING,
    health_pb2.HealthCheckResponse.NOT_SERVING,
)


class Health(aio.HealthServicer):
    """Read from the registry on each Check (after a drain began, the status stays put)."""

    def __init__(self, registry) -> None:
        super().__init__()
        self.registry = registry

    async def refresh(self) -> None:
        status = SERVING if self.registry.readiness().ready else NOT_SERVING
        for service in SERVICES:
            await self.set(service, status)  # a no-op once enter_graceful_shutdown ran

    async def Check(self, request, context):
        await self.refresh()
        return await super().Check(request, context)
