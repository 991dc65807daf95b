"""gRPC adapters over the same core as the REST routes (no FastAPI here).

server.py starts them on GRPC_PORT from the app's lifespan: TF Serving's PredictionService
and ModelService (tfserving.py), the Open Inference Protocol's GRPCInferenceService
(kserve.py) and the standard health service (health.py), all behind one interceptor that
checks the API key, maps the core's errors to status codes and counts calls (gate.py).
"""

from contextlib import AbstractAsyncContextManager, nullcontext


def serving(registry, settings, api_key=None, lifecycle=None) -> AbstractAsyncContextManager:
    """The gRPC server while the lifespan runs, if GRPC_PORT is set; else nothing at all
    (nothing imported either: grpcio and the generated messages load only when used)."""
    if not settings.grpc_port:
        return nullcontext()
    from service.grpc.server import running

    return running(registry, settings, api_key, lifecycle)
