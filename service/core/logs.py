"""Log lines as one JSON object each (default) or readable text, for our and uvicorn's loggers."""

import asyncio
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from service.core import context

LogFormat = Literal["json", "text"]
_FIELDS = ("request_id", "route", "status", "duration_ms", "model", "version")


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Request id, route, status, duration, model and version where known (None left out)."""
    fields: dict[str, Any] = context.fields()
    for name in ("model", "version"):  # `extra={"model": ...}` on a line outside a request
        if fields.get(name) is None and hasattr(record, name):
            fields[name] = getattr(record, name)
    return {k: fields[k] for k in _FIELDS if fields.get(k) is not None}


_ENCODER = json.JSONEncoder(default=str)  # json.dumps(..., default=str) would build one per line


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...request fields, "exc"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [request_id=... route=... status=...]` for people."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        line = super().format(record)
        if not fields:
            return line
        first, newline, rest = line.partition("\n")  # keep a traceback below the fields
        return f"{first} [{' '.join(f'{k}={v}' for k, v in fields.items())}]{newline}{rest}"


# query parameters whose values are credentials: never written to a log line
_SECRET = re.compile(
    r"(?i)([?&](?:api[_-]?key|key|token|access[_-]?token|secret|password|auth)=)[^&#\s]*"
)


def redact(text: str) -> str:
    """`/predict/stock?api_key=abc&x=1` -> `/predict/stock?api_key=***&x=1`."""
    return _SECRET.sub(r"\1***", text) if "=" in text else text


class Redact(logging.Filter):
    """Credentials sent in a query string stay out of uvicorn's access line (the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # a tuple holding a "=" somewhere: only then is there a query string to redact
        if (
            record.name == "uvicorn.access"
            and type(args) is tuple
            and any(type(a) is str and "=" in a for a in args)
        ):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


class ServiceHandler(logging.StreamHandler):
    """Our handler on the root logger, writing to whatever `sys.stderr` is at the time.

    Its own class so `configure_logging` replaces it and leaves others (pytest's) alone.
    stderr, like Python's and uvicorn's defaults; container runtimes collect both streams.

    Lines below WARNING logged on a running event loop (the access lines, one per request)
    are written together at the end of that turn of the loop: one write for all the
    requests answered in the turn instead of one each. Warnings and errors, and every
    line from another thread, are written at once (after what is pending, in order).
    """

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.pending.append(line)
        if record.levelno < logging.WARNING:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                if len(self.pending) == 1:
                    loop.call_soon(self.flush)
                return
        self.flush()

    def flush(self) -> None:
        with self.lock:  # an RLock: emit holds it already
            lines, self.pending = self.pending, []
            if lines:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except Exception:  # a closed stream at exit: nothing left to tell it to
                    pass

    @property
    def stream(self):  # like logging's last-resort handler: resolved on every write
        return sys.stderr

    @stream.setter
    def stream(self, _) -> None:
        pass


def configure_logging(log_format: LogFormat, level: str) -> None:
    """Send `service` and uvicorn's loggers (its access log too) through one formatter.

    Called from the app's lifespan, so a plain `uvicorn service.main:app` uses it from
    "Application startup complete" on; only uvicorn's two lines before startup keep
    uvicorn's own format.
    """
    # The logging HOWTO's "Optimization": no caller frame, thread or process looked up per
    # line (no formatter here prints them)
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ServiceHandler)]:
        old.flush()
        root.removeHandler(old)
    handler = ServiceHandler()
    handler.addFilter(Redact())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    logging.getLogger("service").setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.access"):  # uvicorn.error propagates into uvicorn
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
