"""Every error the core raises carries a protocol-neutral code: its kind.

The one table of statuses (service.protocols.errors.KINDS) turns a kind into an HTTP status
and a gRPC code; each protocol renders the error with one function of its own
(service.api.*.errors, service.grpc).
"""

from typing import Any, ClassVar

from artifact.metadata import Loc, format_loc

ECHO = 64  # characters of a client's text an error message may repeat


def short(value: Any) -> str:
    """Client text as an error may repeat it: ASCII, at most ECHO characters."""
    text = str(value).encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return text if len(text) <= ECHO else f"{text[:ECHO]}..."


class ServiceError(Exception):
    """Base of every expected error: `code` names its kind, which the one table of statuses
    (service.protocols.errors.KINDS) turns into each transport's status."""

    code: ClassVar[str] = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(ServiceError):
    """A request that breaks a rule of the model serving it; `loc` is relative to the input."""

    code = "invalid_argument"

    def __init__(self, loc: Loc, msg: str) -> None:
        super().__init__(f"{format_loc(loc)}: {msg}")
        self.loc, self.msg = tuple(loc), msg


class ModelError(ServiceError):
    """An error about one model, by name; the message comes from the class's template."""

    template: ClassVar[str] = "model '{name}'"

    def __init__(self, name: str) -> None:
        super().__init__(self.template.format(name=name))
        self.name = name


class ModelNotFound(ModelError):
    code = "not_found"
    template = "model '{name}' not found"


class VersionNotFound(ModelNotFound):
    def __init__(self, name: str, version: int) -> None:
        ServiceError.__init__(self, f"model '{name}' has no version {version} being served")
        self.name, self.version = name, version


class ModelUnavailable(ModelError):
    code = "unavailable"
    template = "model '{name}' is not available: no loadable version was found"


class NotReady(ServiceError):
    code = "unavailable"

    def __init__(self) -> None:
        super().__init__("the service is not ready: models are not loaded yet")


class Overloaded(ServiceError):
    code = "resource_exhausted"

    def __init__(self, name: str, retry_after: int = 1) -> None:
        super().__init__(f"model '{name}' is overloaded: its request queue is full; retry later")
        self.name, self.retry_after = name, retry_after


class Unauthenticated(ServiceError):
    code = "unauthenticated"
