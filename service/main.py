"""Build the app: the gate, the protocol routers, and a lifespan that loads the models.

`create_app(settings)` reads nothing from the environment unless `settings` is None, and
loads models only when its lifespan starts; `service.main:app` is built on first access.
"""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
from fastapi import FastAPI

from service import VERSION, grpc
from service.api import docs, errors, openapi
from service.api.gate import Gate, GateSettings
from service.api.kserve import infer as kserve_infer
from service.api.kserve import routes as kserve
from service.api.native import evaluate, models, predict
from service.api.tfserving import routes as tfserving
from service.core import inference, loader, metrics
from service.core.batching import Options as BatchOptions
from service.core.lifecycle import Lifecycle
from service.core.logs import configure_logging
from service.core.registry import Loader, Registry
from service.core.reload import watching
from service.core.repository import Repository
from service.settings import Settings, api_key, get_settings
from service.startup import NothingToServe

log = logging.getLogger("service")


def repository_of(settings: Settings) -> Repository:
    """The models directory as the settings name it, with its version labels' file name."""
    return Repository(settings.models_dir, settings.version_labels_file)


def build_registry(settings: Settings, load: Loader | None = None) -> Registry:
    """Every model, each run by the runtime the settings choose.

    `load` reads one version directory (service.core.loader.load with the settings' inference
    options unless given: the benchmark's ceiling passes one that answers constants).
    """
    options = inference.Options(
        settings.inference_runtime,
        settings.tf_intra_op_threads,
        settings.tf_inter_op_threads,
        settings.inference_xla,
        tuple(settings.inference_buckets),
    )
    batching = BatchOptions(
        settings.batch_max_windows,
        settings.batch_max_wait_ms / 1000,
        settings.batch_queue_size,
        settings.batch_worker,
    )
    load = load or partial(loader.load, options=options)
    registry = Registry(repository_of(settings), load, batching)
    registry.load_all()
    if not registry.models:
        where = settings.models_dir.resolve()
        raise NothingToServe(f"no loadable model under {where} (MODELS_DIR; the reasons above)")
    return registry


def create_app(
    settings: Settings | None = None, lifecycle: Lifecycle | None = None, load: Loader | None = None
) -> FastAPI:
    settings = settings or get_settings()
    lifecycle = lifecycle or Lifecycle()
    origins = tuple(o.strip() for o in settings.cors_origins.split(",") if o.strip())
    gate = GateSettings(api_key(settings), settings.max_body_bytes, origins, settings.root_path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict]:
        configure_logging(settings.log_format, settings.log_level)
        registry = await anyio.to_thread.run_sync(build_registry, settings, load)
        scraped = metrics.app_registry(registry.gauges)  # the gauges are read at each scrape
        # Everything alive now (the imports, the models) lives as long as the process: moved
        # out of the collector's sight, so a full collection scans only what requests leave
        # behind (about 35 ms a pause before, every 0.4 s under load; docs/performance.md)
        gc.collect()
        gc.freeze()
        log.info("ready: serving %s from %s", ", ".join(registry.models), settings.models_dir)
        try:
            async with (
                watching(registry, settings.reload_interval_s),
                grpc.serving(registry, settings, gate.api_key, lifecycle),  # if GRPC_PORT
            ):
                yield {"registry": registry, "lifecycle": lifecycle, "metrics": scraped}
        finally:
            await anyio.to_thread.run_sync(registry.stop)

    app = FastAPI(
        title="LSTM time-series service",
        summary="Next-day S&P 500 close, cos(x) curve fitting and sign classification.",
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc come from docs.install, with local assets
        redoc_url=None,
    )
    docs.install(app)
    errors.install(app)
    openapi.install(app, repository_of(settings))
    protocols = (tfserving.router, kserve.router, kserve_infer.router)
    for router in (predict.router, evaluate.router, models.router, *protocols):
        app.include_router(router)
    app.add_middleware(Gate, settings=gate, owner=app)  # its hot routes: service.api.direct
    return app


def __getattr__(name: str) -> FastAPI:
    """`service.main:app` for `uvicorn service.main:app`: built on first access, not at import."""
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
