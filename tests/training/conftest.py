import pytest

from tests.tiny import train_tiny


@pytest.fixture(scope="session")
def tiny_exports(tmp_path_factory):
    """One tiny export of each task: {task: version dir}."""
    out = tmp_path_factory.mktemp("tiny-models")
    return {task: train_tiny(task, out) for task in ("stock", "sine", "classify")}
