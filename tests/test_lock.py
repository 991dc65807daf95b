"""requirements/service.txt, the image's hashed lock, holds every base dependency of
pyproject.toml (a dependency added to one and not the other would be missing in the image
only), and no TensorFlow."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def locked() -> set[str]:
    lines = (ROOT / "requirements" / "service.txt").read_text().splitlines()
    return {name(line) for line in lines if line and not line.startswith((" ", "#"))}


def test_every_base_dependency_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {name(r) for r in project["dependencies"]}
    assert wanted - locked() == set()


def test_the_lock_holds_no_tensorflow():
    assert not {n for n in locked() if n.startswith(("tensorflow", "keras"))}
