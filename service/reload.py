"""Hot reload: serve a new model version as soon as its directory appears, without a restart.

A background task polls the models directory every RELOAD_INTERVAL_S seconds. A newer
integer version (or a model that was absent) is loaded and warmed up in a worker thread,
then swapped in by `swap`, the one place a served model changes. Requests already running
hold the old `LoadedModel` and finish on it. A version that fails to load is rejected:
the old one keeps serving, the error shows in the model's status, and the same files are
not retried until they change.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread

from service.registry import LoadedModel, Registry, candidate_versions, load_version, model_dirs

log = logging.getLogger(__name__)
Loader = Callable[[Path], LoadedModel]  # a version directory -> the loaded, warmed model


def swap(registry: Registry, model: LoadedModel) -> None:
    """Serve `model` from now on; one dict assignment, so every request sees old or new."""
    registry.models[model.name] = model
    registry.failed.pop(model.name, None)
    registry.reload_errors.pop(model.name, None)


def _fingerprint(path: Path) -> tuple[str, int]:
    """Changes when any file of the version directory changes (e.g. a copy completing)."""
    newest = max((p.stat().st_mtime_ns for p in path.rglob("*")), default=0)
    return str(path), newest


class Reloader:
    """Looks for newer versions; remembers the ones it rejected."""

    def __init__(self, registry: Registry, models_dir: Path, load: Loader = load_version) -> None:
        self.registry, self.models_dir, self.load = registry, models_dir, load
        self.rejected: set[tuple[str, int]] = set()

    def newer(self) -> list[Path]:
        """The newest complete version directory of each model, where it beats the served one."""
        found = []
        for model_dir in model_dirs(self.models_dir):
            versions = candidate_versions(model_dir)
            served = self.registry.models.get(model_dir.name)
            if not versions or _fingerprint(versions[0]) in self.rejected:
                continue
            if served is None or int(versions[0].name) > served.version:
                found.append(versions[0])
        return found

    async def check(self) -> list[LoadedModel]:
        """One poll: load, warm up and swap in every newer version; returns what was swapped."""
        swapped = []
        for path in await anyio.to_thread.run_sync(self.newer):
            name = path.parent.name
            try:
                model = await anyio.to_thread.run_sync(self.load, path)
            except Exception as exc:  # a broken export must never stop the serving one
                self.reject(path, exc)
                continue
            swap(self.registry, model)
            log.info("reloaded %s: now serving version %d from %s", name, model.version, path)
            swapped.append(model)
        return swapped

    def reject(self, path: Path, exc: Exception) -> None:
        name, first_line = path.parent.name, (str(exc).splitlines() or [""])[0]
        self.rejected.add(_fingerprint(path))
        # clients see the version and the kind of failure; paths and TF's text stay in the log
        kind = type(exc).__name__
        self.registry.reload_errors[name] = (
            f"version {path.name} rejected: it failed to load ({kind}); see the server log"
        )
        served = self.registry.models.get(name)
        still = f"still serving version {served.version}" if served else "not serving"
        log.error("reload of %s failed (%s): %s: %s; %s", name, path, kind, first_line, still)

    async def run(self, interval_s: float) -> None:
        while True:
            await anyio.sleep(interval_s)
            try:
                await self.check()
            except Exception:  # e.g. the directory vanished for a moment: try again next time
                log.exception("reload poll of %s failed", self.models_dir)


@asynccontextmanager
async def watching(
    registry: Registry, models_dir: Path, interval_s: float, load: Loader = load_version
) -> AsyncIterator[None]:
    """Run the reloader for the lifespan of the app (not at all if `interval_s` is 0).

    `load` loads and warms one version directory: pass the one startup used (same options).
    """
    if interval_s <= 0:
        yield
        return
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(Reloader(registry, models_dir, load).run, interval_s)
        log.info("watching %s for new versions every %g s", models_dir, interval_s)
        try:
            yield
        finally:
            tasks.cancel_scope.cancel()
