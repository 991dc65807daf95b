"""The version directories of a model and the state of each, in TensorFlow Serving's terms.

AVAILABLE: the version being served. START: a complete version directory newer than the served
one that is not loaded (yet: hot reload picks it up, or it failed at startup). END: not served,
either superseded by a newer version, or rejected (then `error` says why).
"""

from dataclasses import dataclass

from service.errors import ModelNotFound
from service.registry import KNOWN_MODELS, Registry, candidate_versions


@dataclass(frozen=True)
class VersionState:
    version: int
    state: str  # AVAILABLE, START or END
    error: str = ""  # why it is not served, if it failed to load


def on_disk(registry: Registry, name: str) -> list[int]:
    """Complete version directories of `name` (saved_model.pb and metadata.json), newest first.

    Only names the service knows are looked up: a name from a URL never becomes a path.
    """
    known = name in KNOWN_MODELS or name in registry.models or name in registry.failed
    model_dir = registry.models_dir / name if registry.models_dir and known else None
    if model_dir is None or not model_dir.is_dir():
        return []
    return [int(p.name) for p in candidate_versions(model_dir)]


def states(registry: Registry, name: str) -> list[VersionState]:
    """Every known version of `name`, newest first; 404 if the service has never heard of it."""
    served = registry.models.get(name)
    versions = set(on_disk(registry, name)) | ({served.version} if served else set())
    if not versions and name not in registry.failed:
        raise ModelNotFound(name)
    if served is None:
        # the loader's text (paths, TF messages) stays in the server log, as for hot reloads
        reason = "no version loaded at startup; see the server log"
        return [VersionState(v, "END", reason) for v in sorted(versions, reverse=True)]
    rejected = getattr(registry, "reload_errors", {}).get(name, "")  # set by hot reload
    found = []
    for v in sorted(versions, reverse=True):
        if v == served.version:
            found.append(VersionState(v, "AVAILABLE"))
        elif v < served.version:
            found.append(VersionState(v, "END"))
        elif rejected.startswith(f"version {v} "):
            found.append(VersionState(v, "END", rejected))
        else:
            found.append(VersionState(v, "START"))
    return found
