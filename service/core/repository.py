"""The models on disk: `<models_dir>/<name>/<version>/`, TF Serving's layout.

A version is a directory named by plain ASCII digits without leading zeros (`3`, not `03`,
`٣` or `²`) holding `saved_model.pb` and `metadata.json`. Anything else in a model
directory is skipped with one log line (once per path, not once per poll). Symlinks are
followed (Kubernetes volumes are made of them), a link that does not resolve is skipped like
any other broken entry, and what a version holds must name the model directory it sits in
(checked when it loads, service.core.loader).
"""

import json
import logging
import re
from pathlib import Path

from artifact.metadata import LABELS, METADATA, NAME, SAVED_MODEL

log = logging.getLogger(__name__)

_VERSION = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)


class Repository:
    """Reads the models directory; every call lists afresh (run it off the event loop)."""

    def __init__(self, models_dir: Path, labels_file: str = LABELS) -> None:
        self.models_dir, self.labels_file = models_dir, labels_file
        self._reported: set[str] = set()

    def path(self, name: str, version: int) -> Path:
        return self.models_dir / name / str(version)

    def listing(self) -> dict[str, list[int]]:
        """Every model name and its complete versions, newest first (empty: none servable)."""
        return {d.name: self._versions(d) for d in self._model_dirs()}

    def _model_dirs(self) -> list[Path]:
        try:
            entries = sorted(self.models_dir.iterdir())
        except OSError as exc:
            log.error("models directory %s: %s", self.models_dir, exc.strerror or exc)
            return []
        found = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if not NAME.fullmatch(entry.name):
                self._skip(entry, "not a model name (ASCII letters, digits, '_', '.', '-')")
            elif not _is_dir(entry):
                self._skip(entry, "not a directory (or a link that does not resolve)")
            else:
                found.append(entry)
        return found

    def _versions(self, model_dir: Path) -> list[int]:
        try:
            entries = list(model_dir.iterdir())
        except OSError as exc:
            self._skip(model_dir, exc.strerror or str(exc))
            return []
        found = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name == self.labels_file:  # "." e.g. an
                continue  # export being written (training stages there); labels() reads the other
            if not _VERSION.fullmatch(entry.name):
                self._skip(entry, "a version is named by ASCII digits, without leading zeros")
            elif not _is_dir(entry):
                self._skip(entry, "not a directory (or a link that does not resolve)")
            elif not _complete(entry):  # e.g. still being copied: listed once complete
                self._skip(entry, "no saved_model.pb and metadata.json (yet)")
            else:
                found.append(int(entry.name))
        return sorted(found, reverse=True)

    def labels(self, name: str) -> dict[str, int]:
        """The version labels of `name` (`<name>/<labels_file>`, labels.json unless
        VERSION_LABELS_FILE names another: `{"stable": 4, "canary": 5}`, TF Serving's
        `version_labels`); none without the file, or when it is unreadable (logged)."""
        path = self.models_dir / name / self.labels_file
        try:
            found = json.loads(path.read_bytes()[: 1 << 16])
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            self._skip(path, f"not a JSON object of label -> version ({exc})")
            return {}
        if not isinstance(found, dict) or not all(
            isinstance(k, str) and type(v) is int and v > 0 for k, v in found.items()
        ):
            self._skip(path, "not a JSON object of label -> version (a positive integer)")
            return {}
        return found

    def _skip(self, path: Path, why: str) -> None:
        if str(path) not in self._reported:
            self._reported.add(str(path))
            log.warning("skipping %s: %s", path, why)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _complete(path: Path) -> bool:
    try:
        return (path / SAVED_MODEL).is_file() and (path / METADATA).is_file()
    except OSError:
        return False


def fingerprint(path: Path) -> tuple[str, int]:
    """Changes when a file of the version directory changes (a copy completing, a fix)."""
    newest = 0
    for p in path.rglob("*"):
        try:
            newest = max(newest, p.stat().st_mtime_ns)
        except OSError:  # a dangling link inside: the load says what is wrong
            continue
    return str(path), newest
