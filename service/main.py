"""Build the FastAPI app: settings, lifespan (model loading), error handlers and routers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from service import errors
from service.registry import load_registry
from service.routes import models, predict
from service.settings import Settings, get_settings

log = logging.getLogger("service")


def configure_logging(level: str) -> None:
    """Give the `service` loggers a handler of their own (uvicorn only configures its own)."""
    log.setLevel(level.upper())
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; settings are resolved and models loaded only when its lifespan starts."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict]:
        resolved = settings or get_settings()
        configure_logging(resolved.log_level)
        registry = await anyio.to_thread.run_sync(load_registry, resolved.models_dir)
        log.info("ready: serving %s from %s", ", ".join(registry.models), resolved.models_dir)
        yield {"registry": registry}  # request.state.registry, read by get_registry

    app = FastAPI(
        title="LSTM time-series service",
        summary="Next-day S&P 500 close, cos(x) curve fitting and sign classification.",
        version="0.1.0",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(predict.router)
    app.include_router(models.router)
    return app


app = create_app()
