"""Every FastAPI dependency of the routes, each `async def` (a plain `def` would cost a thread
hand-off per request): the registry the lifespan loaded, and the process lifecycle."""

from typing import Annotated, Any

from fastapi import Depends, Request

from service.core.errors import NotReady
from service.core.registry import Registry


def registry_of(request: Request) -> Registry:
    """The registry the lifespan loaded.

    The prediction routes call this directly rather than through `Depends`: a dependency
    doubles FastAPI's per-request dependency solving (about 45 more Python calls a request,
    measured with bench.inprocess under cProfile), on the path that runs thousands of times a
    second. The other routes take `RegistryDep`, so tests can swap it.
    """
    registry = request.scope.get("state", {}).get("registry")
    if registry is None:
        raise NotReady()
    return registry


async def get_registry(request: Request) -> Registry:
    """The registry the lifespan loaded (tests swap it with `app.dependency_overrides`)."""
    return registry_of(request)


async def get_draining(request: Request) -> bool:
    """True once shutdown has begun: readiness answers 503 from then on."""
    lifecycle: Any = request.scope.get("state", {}).get("lifecycle")
    return bool(lifecycle is not None and lifecycle.draining)


RegistryDep = Annotated[Registry, Depends(get_registry)]
DrainingDep = Annotated[bool, Depends(get_draining)]
