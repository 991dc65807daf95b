"""The HTTP server: uvicorn run in-process with the service's bounded connection class.

On SIGTERM (or Ctrl+C) uvicorn stops accepting, waits for the requests in flight at most
`graceful_s` seconds, runs the app's shutdown and re-raises the signal.
"""

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

import uvicorn

from service.protocol import BoundedHttpProtocol, Limits
from service.settings import Settings

GRACE_S = 20  # drain of in-flight requests; below Kubernetes' default 30 s grace period


@dataclass(frozen=True)
class Options:
    """Server options from the command line (`python -m service --help`)."""

    host: str = "127.0.0.1"
    port: int = 8000
    graceful_s: int = GRACE_S
    keep_alive_s: int = 5
    log_level: str | None = None
    access_log: bool = True


def limits(settings: Settings) -> Limits:
    return Limits(
        settings.max_url_bytes,
        settings.max_header_bytes,
        settings.header_timeout_s,
        settings.max_connections,
    )


def config(app: Any, settings: Settings, options: Options) -> uvicorn.Config:
    """uvicorn's configuration: our connection class; logging is the service's own."""
    logging.getLogger("uvicorn").setLevel(logging.INFO)  # --log-level sets its children
    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        http=partial(BoundedHttpProtocol, limits=limits(settings)),  # type: ignore[arg-type]
        lifespan="on",
        log_config=None,  # configure_logging already routes uvicorn's loggers
        log_level=options.log_level,
        access_log=options.access_log,
        timeout_keep_alive=options.keep_alive_s,
        timeout_graceful_shutdown=options.graceful_s,
    )


def serve(app: Any, settings: Settings, options: Options) -> None:
    """Run until SIGTERM or Ctrl+C has drained the server (or its startup failed: exit 3)."""
    uvicorn.Server(config(app, settings, options)).run()
