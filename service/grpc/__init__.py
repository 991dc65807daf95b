"""gRPC adapters over the same core as the REST routes (no FastAPI here).

server.py starts them on GRPC_PORT from the app's lifespan: TF Serving's PredictionService
and ModelService (tfserving.py), the Open Inference Protocol's GRPCInferenceService
(kserve.py) and the standard health service (health.py), all behind one interceptor that
checks the API key, maps the core's errors to status codes and counts calls (gate.py).
"""
