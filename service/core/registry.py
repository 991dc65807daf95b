"""The models in memory: the version serving each name, and what failed; one readiness.

Versions are loaded by a `Loader` (service.core.loader.load, or a stand-in in the benchmark)
and get their name's micro-batcher attached when they are installed, so `await
model.predict(batch)` is the one call any protocol makes. A name keeps its batcher across
version swaps. Listing the disk is slow on network volumes: `refresh` (run in a thread by the
startup and each reload poll) keeps the listing that status routes read.

A version that fails to load, at startup or at a reload poll, is refused (`refuse`): the reason
shows in readiness, the status routes and /metrics until a newer version serves, and the same
files are not tried again until one of them changes (service.core.repository.fingerprint).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from artifact.metadata import Spec
from service.core.batching import DEFAULTS as BATCHING
from service.core.batching import Batcher, Options, Serve
from service.core.errors import ModelNotFound, ModelUnavailable, VersionNotFound
from service.core.repository import Repository, fingerprint

log = logging.getLogger(__name__)
Loader = Callable[[Path], tuple[Spec, Serve]]  # a version directory -> its spec and graph


@dataclass(frozen=True, eq=False)
class Model:
    """One loaded version: its metadata, its graph and its name's batcher."""

    name: str
    version: int
    spec: Spec
    serve: Serve = field(repr=False)
    batcher: Batcher = field(repr=False)

    @property
    def metadata(self) -> dict:
        return self.spec.raw

    async def predict(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """The graph's named outputs for `(n, window, F)`, in a call shared with others."""
        return await self.batcher.submit(self.serve, batch)


@dataclass(frozen=True)
class Readiness:
    """Ready: not draining, and every model found on disk has a version serving."""

    ready: bool
    models: dict[str, int]
    failed: dict[str, str]  # name -> why no version of it serves (startup)
    rejected: dict[str, str]  # name -> why its newest version was refused (not in `failed`)
    draining: bool = False


@dataclass(frozen=True)
class VersionState:
    """AVAILABLE: serving. START: on disk and newer, not loaded (yet). END: superseded, or
    refused (then `error` says why)."""

    version: int
    state: str
    error: str = ""


class Registry:
    def __init__(self, repository: Repository, load: Loader, batching: Options = BATCHING) -> None:
        self.repository, self.load, self.batching = repository, load, batching
        self.models: dict[str, Model] = {}
        self.failed: dict[str, str] = {}
        # name -> refused version -> why; replaced, never changed in place, so the routes
        # (on the event loop) read a consistent snapshot while a reload thread refuses
        self.rejected: dict[str, dict[int, str]] = {}
        self.refused: set[tuple[str, int]] = set()  # fingerprints of the refused directories
        self.listing: dict[str, list[int]] = {}
        self.labels: dict[str, dict[str, int]] = {}  # name -> label -> version (labels.json)
        self.batchers: dict[str, Batcher] = {}

    # -- the request path: no disk access, no locks
    def model(self, name: str, version: int | None = None) -> Model:
        found = self.models.get(name)
        if found is None:
            if name in self.failed or name in self.listing:
                raise ModelUnavailable(name)
            raise ModelNotFound(name)
        if version is not None and version != found.version:
            raise VersionNotFound(name, version)
        return found

    def known(self, name: str) -> bool:
        return name in self.models or name in self.failed or name in self.listing

    def readiness(self, draining: bool = False) -> Readiness:
        models = {name: m.version for name, m in sorted(self.models.items())}
        rejected = {
            name: why[max(why)]
            for name, why in sorted(self.rejected.items())
            if name not in self.failed
        }
        ok = bool(models) and not self.failed and not draining
        return Readiness(ok, models, dict(sorted(self.failed.items())), rejected, draining)

    # -- loading: blocking, run in a worker thread
    def refresh(self) -> dict[str, list[int]]:
        """List the disk; a refused version that is gone from it is forgotten."""
        self.listing = listing = self.repository.listing()
        self.labels = {name: found for name in listing if (found := self.repository.labels(name))}
        kept = {
            name: {v: why for v, why in refused.items() if v in listing.get(name, [])}
            for name, refused in self.rejected.items()
        }
        kept = {name: refused for name, refused in kept.items() if refused}
        if kept != self.rejected:
            on_disk = {
                str(self.repository.path(n, v)) for n, refused in kept.items() for v in refused
            }
            self.refused = {f for f in self.refused if f[0] in on_disk}
            self.rejected = kept
        return listing

    def load_newest(self, name: str) -> Model | None:
        """Startup: the newest version of `name` that loads; each failure logged, the next tried."""
        reasons = []
        for version in self.listing.get(name, []):
            try:
                return self.load_version(name, version)
            except Exception as exc:  # one broken version must not stop the others
                reasons.append(f"version {version}: {describe(exc)}")
                log.error("model %s version %d not loaded: %s", name, version, describe(exc))
                self.refuse(name, version, exc)
        if not reasons:  # nothing was tried, so nothing was logged yet: say why here
            why = "no version directory (ASCII digits) holding saved_model.pb and metadata.json"
            where = self.repository.models_dir / name
            log.error("model %s not loaded from %s: %s", name, where, why)
            reasons.append(why)
        self.failed[name] = "; ".join(reasons)
        return None

    def load_version(self, name: str, version: int) -> Model:
        started = time.perf_counter()
        spec, serve = self.load(self.repository.path(name, version))
        batcher = self.batchers.get(name)
        if batcher is None:
            batcher = Batcher(name, self.batching)
            self.batchers[name] = batcher
        model = Model(name, version, spec, serve, batcher)
        log.info("loaded %s version %d in %.2f s", name, version, time.perf_counter() - started)
        return model

    def refuse(self, name: str, version: int, exc: Exception) -> None:
        """Record that `version` of `name` failed to load; the caller logs why."""
        self.refused.add(fingerprint(self.repository.path(name, version)))
        kind = type(exc).__name__  # clients see the kind; paths and TF's text stay in the log
        why = f"version {version} rejected: it failed to load ({kind}); see the server log"
        self.rejected = {**self.rejected, name: {**self.rejected.get(name, {}), version: why}}

    def is_refused(self, name: str, version: int) -> bool:
        """True while the files of a refused version are unchanged."""
        return fingerprint(self.repository.path(name, version)) in self.refused

    def install(self, model: Model) -> None:
        """Serve `model` from now on: one dict assignment, so a request sees old or new."""
        self.models[model.name] = model
        self.failed.pop(model.name, None)
        rejected = dict(self.rejected)
        newer = {v: why for v, why in rejected.pop(model.name, {}).items() if v > model.version}
        if newer:  # refused versions above the served one still show
            rejected[model.name] = newer
        self.rejected = rejected

    def load_all(self) -> None:
        """Startup: list the disk and load the newest good version of every model."""
        for name in self.refresh():
            model = self.load_newest(name)
            if model is not None:
                self.install(model)

    def stop(self) -> None:
        for batcher in self.batchers.values():
            batcher.stop()

    def versions(self, name: str) -> list["VersionState"]:
        """Every known version of `name`, newest first, in TF Serving's terms."""
        if not self.known(name):
            raise ModelNotFound(name)
        served = self.models.get(name)
        found = set(self.listing.get(name, [])) | ({served.version} if served else set())
        refused = self.rejected.get(name, {})
        states = []
        for v in sorted(found, reverse=True):
            if served is not None and v == served.version:
                states.append(VersionState(v, "AVAILABLE"))
            elif v in refused:  # the loader's text (paths, TF messages) stays in the server log
                states.append(VersionState(v, "END", refused[v]))
            else:  # START: on disk, not tried yet (newer than the served one, or none serves)
                states.append(VersionState(v, "END" if served and v < served.version else "START"))
        return states

    # -- what /metrics reads
    def gauges(self) -> tuple[dict, dict, dict]:
        served = {n: m.version for n, m in self.models.items()}
        rejected = {n: max(why) for n, why in self.rejected.items()}  # the newest refused
        depth = {n: b.peak() for n, b in self.batchers.items()}
        return served, rejected, depth


def describe(exc: Exception) -> str:
    """`Type: first line of the message`, for logs and status routes."""
    first = (str(exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
