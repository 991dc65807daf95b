"""`make help` lists every target the Makefile documents, and the README's table the same."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = re.compile(r"^([a-z-]+):.*## (.+)$", re.M)  # `target: deps  ## what it does`


def documented() -> dict[str, str]:
    return dict(DOCUMENTED.findall((ROOT / "Makefile").read_text()))


def test_every_target_people_type_is_documented():
    phony = re.search(r"^\.PHONY: (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert phony and set(phony[1].split()) == set(documented())


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_make_help_lists_every_target_with_its_comment():
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, check=True)  # fmt: skip
    listed = dict(re.findall(r"^  make (\S+) +(.+)$", done.stdout, re.M))
    assert listed == documented()


def test_the_readme_table_lists_the_same_targets():
    table = re.findall(r"^\| `make ([a-z-]+)` \|", (ROOT / "README.md").read_text(), re.M)
    assert sorted(table) == sorted(documented())
