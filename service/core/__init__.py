"""The data plane: models on disk and in memory, input rules, the one prediction path.

Nothing here imports FastAPI or Starlette; every protocol adapter (service.api, service.grpc)
calls into it the same way.
"""
