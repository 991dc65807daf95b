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
    """Read from the registry and the lifecycle on each Check (REST readiness's answer)."""

    def __init__(self, registry, lifecycle=None) -> None:
        super().__init__()
        self.registry, self.lifecycle = registry, lifecycle

    async def refresh(self) -> None:
        draining = self.lifecycle is not None and self.lifecycle.draining
        status = SERVING if self.registry.readiness(draining).ready else NOT_SERVING
        for service in SERVICES:
            await self.set(service, status)  # a no-op once enter_graceful_shutdown ran

    async def Check(self, request, context):
        await self.refresh()
        return await super().Check(request, context)
