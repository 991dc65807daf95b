"""Hot reload: serve a new model version as soon as its directory appears, without a restart.

A background task polls the models directory every RELOAD_INTERVAL_S seconds, in a worker
thread (listing a network volume can be slow). A newer version (or a model that was absent)
is loaded, checked and warmed up (service.core.loader) in that thread, then installed: one
dict assignment, so requests already running finish on the version they hold. A version that
fails is refused: the last good one keeps serving, the refusal shows in readiness, the status
routes and /metrics, and the same files are not retried until they change. A fault in one
model never stops the others, and a poll that fails is logged and tried again next time.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread

from service.core.registry import Model, Registry, describe

log = logging.getLogger(__name__)


class Reloader:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def newer(self) -> list[tuple[str, list[int]]]:
        """Each model with versions on disk newer than the served one and not refused as they
        are, newest first. A model that cannot be looked at is logged and skipped."""
        found = []
        for name, versions in self.registry.refresh().items():
            try:
                served = self.registry.models.get(name)
                floor = served.version if served is not None else 0
                fresh = [v for v in versions if v > floor and not self.registry.is_refused(name, v)]
            except Exception:  # one model's directory must never stop the others' reload
                log.exception("reload of %s skipped this poll", name)
                continue
            if fresh:
                found.append((name, fresh))
        return found

    def load(self, name: str, versions: list[int]) -> Model | None:
        """The newest of `versions` that loads; each one that fails is refused."""
        for version in versions:
            try:
                return self.registry.load_version(name, version)
            except Exception as exc:  # a broken export must never stop the serving one
                self.refuse(name, version, exc)
        return None

    def check(self) -> list[Model]:
        """One poll (blocking): load and install every newer version; returns what was installed."""
        installed = []
        for name, versions in self.newer():
            model = self.load(name, versions)
            if model is not None:
                self.registry.install(model)
                log.info("reloaded %s: now serving version %d", name, model.version)
                installed.append(model)
        return installed

    def refuse(self, name: str, version: int, exc: Exception) -> None:
        self.registry.refuse(name, version, exc)
        served = self.registry.models.get(name)
        still = f"still serving version {served.version}" if served else "not serving"
        log.error("reload of %s version %d failed: %s; %s", name, version, describe(exc), still)

    async def run(self, interval_s: float) -> None:
        while True:
            await anyio.sleep(interval_s)
            try:
                await anyio.to_thread.run_sync(self.check)
            except Exception:  # e.g. the directory vanished for a moment: try again next time
                log.exception("reload poll of %s failed", self.registry.repository.models_dir)


@asynccontextmanager
async def watching(registry: Registry, interval_s: float) -> AsyncIterator[None]:
    """Run the reloader for the lifespan of the app (not at all if `interval_s` is 0)."""
    if interval_s <= 0:
        yield
        return
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(Reloader(registry).run, interval_s)
        log.info(
            "watching %s for new versions every %g s", registry.repository.models_dir, interval_s
        )
        try:
            yield
        finally:
            tasks.cancel_scope.cancel()
