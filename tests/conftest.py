"""Session fixtures shared by the test packages."""

from pathlib import Path

import pytest

from tests.service.fake_models import write_fake_models
from tests.tiny import train_tiny


@pytest.fixture(scope="session")
def fake_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Deterministic fake artifacts; exact-value tests rely on them."""
    return write_fake_models(tmp_path_factory.mktemp("fake_models"))


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny models trained by `training` for the service tests: the real export, in seconds."""
    out = tmp_path_factory.mktemp("tiny_models")
    for task in ("stock", "sine", "classify"):
        train_tiny(task, out)
    return out
