"""Refuse to start on a bad setting or file: one log line each, before any model loads.

`python -m service` calls `checked_settings()` before it imports the app (and TensorFlow).
Exit codes (docs/limits.md): 2, a setting or the file it names is invalid; 3, MODELS_DIR
holds no model directory, or none of its models loads (`NothingToServe`, raised by the app's
start-up after one log line per model says why). uvicorn exits 3 as well when the app's
startup fails otherwise or the port cannot be bound.
"""

import logging
import os
import re

from pydantic import ValidationError
from pydantic_settings import SettingsError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.logs import configure_logging
from service.settings import Settings

EXIT_SETTING = 2
EXIT_NO_MODELS = 3
KEY_FILE_MAX_BYTES = 4096
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRET = {"api_key"}  # never logged

log = logging.getLogger("service.startup")


class NothingToServe(RuntimeError):
    """The app's start-up loaded no model: each model's reason is logged already."""


async def refusing(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """The app's lifespan, a `NothingToServe` told in one line instead of a traceback
    (Starlette reports a failed start-up to the server as the traceback's text)."""
    failed: list[Message] = []

    async def held(message: Message) -> None:
        if message["type"] == "lifespan.startup.failed":
            failed.append(message)
        else:
            await send(message)

    try:
        await app(scope, receive, held)
    except NothingToServe as exc:
        log.error("refusing to start: %s", exc)
        # told before the error goes on: a server that has read the failure logs no traceback
        await send({"type": "lifespan.startup.failed", "message": ""})
        raise
    except BaseException:
        for message in failed:
            await send(message)
        raise
    for message in failed:
        await send(message)


class Refusal(Exception):
    """One reason not to start, and its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def shown(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def invalid(error: dict) -> Refusal:
    """One pydantic error as `NAME=value: rule`; secrets are never shown."""
    name = ".".join(map(str, error["loc"])).upper()
    value = "<hidden>" if error["loc"][0] in SECRET else shown(error["input"])
    return Refusal(EXIT_SETTING, f"{name}={value}: {error['msg']}")


def not_json(exc: SettingsError) -> Refusal:
    """pydantic-settings' error for a list-valued setting whose value is not JSON."""
    match = re.search(r'field "(\w+)"', str(exc))
    name = match.group(1).upper() if match else "a setting"
    value = shown(os.environ.get(name, "")) if match else ""
    return Refusal(EXIT_SETTING, f"{name}={value}: is not a JSON list, e.g. [1, 4, 16]")


def check_log_level(settings: Settings) -> None:
    if settings.log_level.upper() not in LOG_LEVELS:
        rule = f"one of {', '.join(LOG_LEVELS)}"
        raise Refusal(EXIT_SETTING, f"LOG_LEVEL={shown(settings.log_level)}: must be {rule}")


def check_buckets(settings: Settings) -> None:
    if any(size < 1 for size in settings.inference_buckets):
        value = shown(list(settings.inference_buckets))
        raise Refusal(EXIT_SETTING, f"INFERENCE_BUCKETS={value}: every batch size must be >= 1")


def check_models_dir(settings: Settings) -> None:
    """A directory holding at least one `<name>/<version>/`, the version in ASCII digits.
    Only names are read here; the app validates each version when it loads it."""
    path = settings.models_dir
    where = f"MODELS_DIR={str(path)!r}"
    try:
        entries = [e for e in os.scandir(path) if e.is_dir()]
    except FileNotFoundError:
        raise Refusal(EXIT_SETTING, f"{where}: does not exist") from None
    except NotADirectoryError:
        raise Refusal(EXIT_SETTING, f"{where}: is not a directory") from None
    except OSError as exc:
        raise Refusal(EXIT_SETTING, f"{where}: cannot be read ({exc.strerror})") from None
    for entry in entries:
        try:
            if any(v.name.isascii() and v.name.isdigit() and v.is_dir() for v in os.scandir(entry)):
                return
        except OSError:
            continue  # an unreadable model directory does not count
    rule = "a model directory <name>/<version>/ with the version in digits"
    raise Refusal(EXIT_NO_MODELS, f"{where}: holds no model to serve (expected {rule})")


def check_api_key(settings: Settings) -> None:
    """API_KEY, if set, must not be blank; else API_KEY_FILE, if set, must hold a key."""
    if settings.api_key is not None:
        if not settings.api_key.get_secret_value().strip():
            raise Refusal(EXIT_SETTING, "API_KEY: is set but blank")
        return
    path = settings.api_key_file
    if path is None:
        return
    where = f"API_KEY_FILE={str(path)!r}"
    try:
        if not path.is_file():
            problem = "is not a file" if path.exists() else "does not exist"
            raise Refusal(EXIT_SETTING, f"{where}: {problem}")
        if path.stat().st_size > KEY_FILE_MAX_BYTES:
            rule = f"a key file holds one key, at most {KEY_FILE_MAX_BYTES} bytes"
            raise Refusal(EXIT_SETTING, f"{where}: {path.stat().st_size} bytes ({rule})")
        key = path.read_text()
    except OSError as exc:
        raise Refusal(EXIT_SETTING, f"{where}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise Refusal(EXIT_SETTING, f"{where}: is not UTF-8 text") from None
    if not key.strip():
        raise Refusal(EXIT_SETTING, f"{where}: is empty (it must hold the key)")


def check_runtime(settings: Settings) -> None:
    from service.core.inference import tensorflow_missing  # numpy only, no TensorFlow

    if problem := tensorflow_missing(settings.inference_runtime):
        raise Refusal(EXIT_SETTING, problem)


CHECKS = (check_log_level, check_buckets, check_runtime, check_api_key, check_models_dir)


def refusals(settings: Settings) -> list[Refusal]:
    found = []
    for check in CHECKS:
        try:
            check(settings)
        except Refusal as refusal:
            found.append(refusal)
    return found


def checked_settings() -> Settings:
    """The settings, with logging configured from them; else one log line per problem and
    SystemExit with the code of the first kind (a bad setting before an empty MODELS_DIR)."""
    settings, found = None, []
    try:
        settings = Settings()
    except ValidationError as exc:
        found = [invalid(error) for error in exc.errors()]
    except SettingsError as exc:
        found = [not_json(exc)]
    if settings is not None:
        found = refusals(settings)
    fallback = "text" if os.environ.get("LOG_FORMAT", "").lower() == "text" else "json"
    configure_logging(
        settings.log_format if settings else fallback,
        settings.log_level if settings and not found else "INFO",
    )
    for refusal in found:
        log.error("refusing to start: %s", refusal)
    if found or settings is None:
        raise SystemExit(min(r.code for r in found))
    return settings
