# The prediction service: the committed models under models/ (SavedModel and model.tflite)
# behind uvicorn on :8000.
#   docker build -t lstm-service . && docker run -p 8000:8000 lstm-service
# scripts/container-test builds, runs and checks this image (podman when no Docker engine).
# BASE_IMAGE is swapped only where no registry is reachable (a local Debian bookworm base
# with python3.11, see scripts/container-test); both stages must use the same base, since
# the venv's python is a symlink to the base's interpreter.
ARG BASE_IMAGE=python:3.11-slim

# ---- build: the pinned dependencies into a venv, from wheels only (no compiler needed) ----
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# requirements/service.txt is the hashed lock of pyproject.toml's base dependencies (no
# TensorFlow: LiteRT serves model.tflite, the gRPC messages are the app's own); its header has
# the command that regenerates it.
COPY requirements/service.txt /tmp/service.txt
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --only-binary=:all: --require-hashes -r /tmp/service.txt \
 && /opt/venv/bin/pip check
# The app, the artifact contract it reads and its models, root-owned, read-only for others.
COPY artifact /app/artifact
COPY service /app/service
COPY models /app/models
RUN python3 -m compileall -q /app/artifact /app/service \
 && chmod -R u=rwX,go=rX /app

# ---- runtime: the venv, artifact/, service/ and models/ only ----
FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MODELS_DIR=/app/models \
    GRPC_HOST=0.0.0.0
USER 10001:10001
# 8000: HTTP; 8500: gRPC (TF Serving's port), on only with GRPC_PORT=8500 (-e or deploy/)
EXPOSE 8000 8500
# Slim images have no curl; urlopen raises (exit 1) on a refused connection or a non-2xx.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"]
# One worker: one copy of the models per process; scale out with replicas, not workers.
# `python -m service`: settings checked first (exit 2/3, docs/limits.md), then uvicorn with
# bounded URL/headers/connections and on SIGTERM SHUTDOWN_DELAY_S + a 20 s drain, exit 0.
CMD ["python", "-m", "service", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]
