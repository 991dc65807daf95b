"""Session fixtures shared by the test packages."""

from pathlib import Path

import pytest

from tests.service.fake_models import write_fake_models


@pytest.fixture(scope="session")
def fake_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Deterministic fake artifacts; exact-value tests rely on them."""
    return write_fake_models(tmp_path_factory.mktemp("fake_models"))


@pytest.fixture(scope="session")
def models_dir(fake_models_dir: Path) -> Path:
    """The models the service tests run against (swap in tiny trained models here)."""
    return fake_models_dir
