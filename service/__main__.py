"""`python -m service [--host H] [--port P] ...`: check the settings, then serve the app.

Settings come from the environment (README, "Settings"); a bad one stops the start-up in
one log line with exit code 2 or 3 before anything loads (service/startup.py). The server
is uvicorn run in-process with the service's own connection class (service/server.py):
bounded URL and headers, a header timeout, a connection limit, and on SIGTERM readiness
503 for SHUTDOWN_DELAY_S, then a drain of at most --timeout-graceful-shutdown seconds and
exit 0 (plain `uvicorn service.main:app` has none of these and exits 143 on SIGTERM).
"""

import argparse
import contextlib
import dataclasses
import signal
import sys
from typing import Any

from service import startup
from service.core.lifecycle import Lifecycle
from service.server import GRACE_S, Options, serve
from service.settings import ROOT_PATH, Settings


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (0-65535)")
    return value


def root_path(text: str) -> str:
    if not ROOT_PATH.fullmatch(text):  # the rule of the ROOT_PATH setting
        raise argparse.ArgumentTypeError(f"{text!r} must start with one / and not end with one")
    return text


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    add("--port", type=port, default=8000, help="(default: %(default)s)")
    add("--workers", type=int, choices=[1], default=1, help="one TensorFlow per process")
    add("--timeout-graceful-shutdown", type=int, default=GRACE_S, metavar="S",
        help="longest wait for requests in flight on SIGTERM (default: %(default)s)")  # fmt: skip
    add("--timeout-keep-alive", type=int, default=5, metavar="S",
        help="close idle keep-alive connections after S s (default: %(default)s)")  # fmt: skip
    add("--log-level", choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="level of uvicorn's loggers (LOG_LEVEL sets the service's)")  # fmt: skip
    add("--access-log", action=argparse.BooleanOptionalAction, default=True,
        help="one line per request (default: on)")  # fmt: skip
    add("--root-path", type=root_path, default=None, metavar="PATH",
        help="the prefix a proxy strips, e.g. /lstm (default: ROOT_PATH, else none)")  # fmt: skip
    args = parser.parse_args(argv)
    return Options(
        host=args.host,
        port=args.port,
        graceful_s=args.timeout_graceful_shutdown,
        keep_alive_s=args.timeout_keep_alive,
        log_level=args.log_level,
        access_log=args.access_log,
        root_path=args.root_path,
    )


def build_app(settings: Settings, lifecycle: Lifecycle) -> Any:
    from service.main import create_app  # after the checks: the app's imports come now

    return create_app(settings, lifecycle)


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    settings = startup.checked_settings()  # exits 2 or 3 in one log line
    if options.root_path is None:  # not on the command line: ROOT_PATH, from env or .env
        options = dataclasses.replace(options, root_path=settings.root_path)
    else:  # the command line's, for the app too (its gate applies one where the server gave none)
        settings = settings.model_copy(update={"root_path": options.root_path})
    lifecycle = Lifecycle()
    # uvicorn re-raises the signal after its drain: a drained shutdown is then exit 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C, re-raised by uvicorn after the drain
        serve(build_app(settings, lifecycle), settings, lifecycle, options)


if __name__ == "__main__":
    main()
