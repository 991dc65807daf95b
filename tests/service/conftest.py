"""App clients for the service tests; the lifespan runs, so the models really load."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings


def client_for(models_dir: Path, **kwargs) -> TestClient:
    """A TestClient of a fresh app serving `models_dir`; enter it with `with`."""
    return TestClient(create_app(Settings(models_dir=models_dir)), **kwargs)


@pytest.fixture(scope="session")
def client(models_dir: Path) -> Iterator[TestClient]:
    with client_for(models_dir) as client:
        yield client


@pytest.fixture(scope="session")
def fake_client(
    fake_models_dir: Path, models_dir: Path, client: TestClient
) -> Iterator[TestClient]:
    """A client on the deterministic fakes (the same app while `models_dir` is the fakes)."""
    if fake_models_dir == models_dir:
        yield client
        return
    with client_for(fake_models_dir) as fake:
        yield fake


COMMITTED_MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="session")
def committed_client() -> Iterator[TestClient]:
    """A client on the models committed under models/ (warnings, intervals, cards, charts)."""
    with client_for(COMMITTED_MODELS) as committed:
        yield committed
