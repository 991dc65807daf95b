"""Every FastAPI dependency of the routes, each `async def` (a plain `def` would cost a thread
hand-off per request): the registry the lifespan loaded, and the process lifecycle."""

from typing import Annotated, Any

from fastapi import Depends, Request

from service.core.errors import NotReady
from service.core.registry import Registry


async def get_registry(request: Request) -> Registry:
    """The registry the lifespan loaded (tests swap it with `app.dependency_overrides`)."""
    registry = request.scope.get("state", {}).get("registry")
    if registry is None:
        raise NotReady()
    return registry


async def registry_of(request: Request) -> Registry:
    """`get_registry` (or its override) for the prediction routes, called directly.

    Through `Depends` it would double FastAPI's per-request dependency solving (about 45 more
    Python calls a request, counted under cProfile with bench.inprocess), on the path that
    runs thousands of times a second. An override a test sets (an `async def` without
    parameters) is still honoured.
    """
    override = request.app.dependency_overrides.get(get_registry)
    if override is None:
        return await get_registry(request)
    return await override()


async def get_draining(request: Request) -> bool:
    """True once shutdown has begun: readiness answers 503 from then on."""
    lifecycle: Any = request.scope.get("state", {}).get("lifecycle")
    return bool(lifecycle is not None and lifecycle.draining)


RegistryDep = Annotated[Registry, Depends(get_registry)]
DrainingDep = Annotated[bool, Depends(get_draining)]
