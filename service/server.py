"""The HTTP server: uvicorn run in-process, with bounded connections and a drain on SIGTERM.

On SIGTERM (or Ctrl+C) readiness turns 503 at once (`Lifecycle.draining`) while requests
are answered for SHUTDOWN_DELAY_S, each with `Connection: close`; then the server stops
accepting, answers what it already holds, waits for the requests in flight at most
`graceful_s` seconds, runs the app's shutdown and exits 0.

Everything uvicorn offers as a setting is passed as one (`Config(http=..., root_path=...,
timeout_keep_alive=..., timeout_graceful_shutdown=..., lifespan="on")`; the connection
class goes where `http` takes a protocol class). Two behaviours have no
setting and reach into `uvicorn.Server` (0.53-0.55): the delay before it stops accepting
overrides `handle_exit` and `on_tick` (its signal handler and its once-a-tick check); the
shutdown that accepts the connections the kernel already completed overrides `shutdown`
and reads `servers`, `lifespan.state` and `config.http_protocol_class` to build their
protocol as uvicorn does. tests/service/test_shutdown.py fails if any of them changes.
"""

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass
from functools import partial
from types import FrameType
from typing import Any

import uvicorn

from service.core.lifecycle import Lifecycle
from service.protocol import BoundedHttpProtocol, Limits
from service.settings import Settings

GRACE_S = 20  # drain of in-flight requests; below Kubernetes' default 30 s grace period
log = logging.getLogger("service.server")


@dataclass(frozen=True)
class Options:
    """Server options from the command line (`python -m service --help`)."""

    host: str = "127.0.0.1"
    port: int = 8000
    graceful_s: int = GRACE_S
    keep_alive_s: int = 5
    log_level: str | None = None
    access_log: bool = True
    root_path: str | None = None  # the prefix a proxy strips (uvicorn's name); None: ROOT_PATH


def limits(settings: Settings) -> Limits:
    return Limits(
        settings.max_url_bytes,
        settings.max_header_bytes,
        settings.header_timeout_s,
        settings.max_connections,
        settings.body_timeout_s,
        settings.max_body_bytes,
    )


class Server(uvicorn.Server):
    """uvicorn's server with SHUTDOWN_DELAY_S before it stops accepting, and a shutdown
    that accepts the connections the kernel already completed instead of resetting them."""

    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle, delay_s: float) -> None:
        super().__init__(config)
        self.lifecycle, self.delay_s = lifecycle, delay_s
        self.stop_at: float | None = None
        self.announced = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.lifecycle.begin_drain()  # a plain flag: safe in a signal handler
        if self.stop_at is None and self.delay_s > 0 and not self.should_exit:
            self.stop_at = time.monotonic() + self.delay_s
            return
        super().handle_exit(sig, frame)  # a second signal ends the delay

    async def on_tick(self, counter: int) -> bool:
        if self.stop_at is not None and not self.should_exit:
            if not self.announced:
                log.info("draining: readiness is 503; answering for %g s more", self.delay_s)
                self.announced = True
            if time.monotonic() >= self.stop_at:  # only ever set here: a second signal that
                self.should_exit = True  # lands mid-check must not be overwritten with False
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.lifecycle.begin_stop()
        await self.accept_backlog()
        await super().shutdown(sockets)

    async def accept_backlog(self) -> None:
        """Close the listening sockets, but first accept what the kernel has queued on them:
        closing them would reset those connections, requests already written included."""
        loop = asyncio.get_running_loop()
        queues = []
        for sock in (sock for server in self.servers for sock in server.sockets):
            try:
                queues.append(socket.socket(fileno=os.dup(sock.fileno())))
            except OSError as exc:  # out of file descriptors: uvicorn's plain close, then
                log.warning("shutdown: not accepting the queued connections: %s", exc)
        for server in self.servers:
            server.close()  # stops accepting; each duplicate keeps its queue alive
        protocol = partial(
            self.config.http_protocol_class,
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
            _loop=loop,
        )
        for queue in queues:
            with queue:
                queue.setblocking(False)
                while True:
                    try:
                        connection, _ = queue.accept()
                    except OSError:  # empty (BlockingIOError) or gone
                        break
                    try:
                        await loop.connect_accepted_socket(
                            protocol, connection, ssl=self.config.ssl
                        )
                    except OSError:  # the client went away meanwhile
                        connection.close()


def config(app: Any, settings: Settings, lifecycle: Lifecycle, options: Options) -> uvicorn.Config:
    """uvicorn's configuration: our connection class; logging is the service's own."""
    logging.getLogger("uvicorn").setLevel(logging.INFO)  # --log-level sets its children
    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        http=partial(BoundedHttpProtocol, limits=limits(settings), lifecycle=lifecycle),  # type: ignore[arg-type]
        lifespan="on",
        log_config=None,  # configure_logging already routes uvicorn's loggers
        log_level=options.log_level,
        access_log=options.access_log,
        timeout_keep_alive=options.keep_alive_s,
        timeout_graceful_shutdown=options.graceful_s,
        root_path=options.root_path if options.root_path is not None else settings.root_path,
    )


def serve(app: Any, settings: Settings, lifecycle: Lifecycle, options: Options) -> None:
    """Run until SIGTERM or Ctrl+C has drained the server (or its startup failed: exit 3)."""
    server = Server(config(app, settings, lifecycle, options), lifecycle, settings.shutdown_delay_s)
    server.run()
