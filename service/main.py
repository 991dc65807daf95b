"""Build the FastAPI app: settings, lifespan (model loading), error handlers and routers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
from fastapi import FastAPI

from service import errors, inference, metrics
from service.access import AccessMiddleware
from service.api import docs
from service.batching import start_batchers, stop_batchers
from service.context import RequestID
from service.limits import BodyLimits
from service.logs import configure_logging
from service.predict import timed_call
from service.registry import KNOWN_MODELS, Registry, load_registry, load_version
from service.reload import watching
from service.routes import kserve, models, predict, tfserving
from service.security import ApiKey, Cors, load_api_key
from service.settings import Settings, get_settings

log = logging.getLogger("service")


def inference_options(settings: Settings) -> inference.Options:
    return inference.Options(settings.inference_xla, tuple(settings.inference_buckets))


def load_models(settings: Settings) -> Registry:
    """TensorFlow's thread pools (settable only before its first op), then every model."""
    inference.configure_threads(settings.tf_intra_op_threads, settings.tf_inter_op_threads)
    return load_registry(settings.models_dir, inference_options(settings))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; settings are resolved and models loaded only when its lifespan starts."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict]:
        resolved = settings or get_settings()
        configure_logging(resolved.log_format, resolved.log_level)
        registry = await anyio.to_thread.run_sync(load_models, resolved)
        metrics.REGISTRY_STATE.registry = registry  # read on each scrape (loaded, queue depth)
        log.info("ready: serving %s from %s", ", ".join(registry.models), resolved.models_dir)
        gates = {  # read per request by the middlewares below, from the request's state
            "api_key": load_api_key(resolved),
            "cors_origins": [o.strip() for o in resolved.cors_origins.split(",") if o.strip()],
            "max_body_bytes": resolved.max_body_bytes,
        }
        registry.batchers = start_batchers(  # one per name: a reloaded version keeps it
            {*KNOWN_MODELS, *registry.models},
            resolved.batch_max_windows,
            resolved.batch_max_wait_ms,
            resolved.batch_queue_size,
            timed_call,
        )
        try:
            # a reloaded version is loaded and warmed exactly as at startup
            load = partial(load_version, options=inference_options(resolved))
            async with watching(registry, resolved.models_dir, resolved.reload_interval_s, load):
                yield {"registry": registry, **gates}  # request.state.registry, for get_registry
        finally:
            await anyio.to_thread.run_sync(stop_batchers, registry.batchers)

    app = FastAPI(
        title="LSTM time-series service",
        summary="Next-day S&P 500 close, cos(x) curve fitting and sign classification.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc come from docs.install, with local assets
        redoc_url=None,
    )
    docs.install(app)
    errors.install(app)
    app.include_router(predict.router)
    app.include_router(models.router)
    app.include_router(tfserving.router)  # TF Serving's REST API
    app.include_router(kserve.router)  # KServe v2 health and metadata
    app.add_middleware(BodyLimits)  # 413 / 415 before anything parses the body
    app.add_middleware(ApiKey)  # 401 without the key, if API_KEY is set (not /health/*)
    app.add_middleware(Cors)  # only if CORS_ORIGINS is set
    app.add_middleware(RequestID)  # X-Request-ID on every response, request_id for logs
    app.include_router(metrics.router)
    app.add_middleware(AccessMiddleware)  # metrics and access-log fields of every request
    return app


app = create_app()
