"""The protocols hold no transport: nothing under service/protocols/ imports a web framework or
gRPC, so a codec can be called by any transport (and by a test) as plain Python."""

import ast
from pathlib import Path

import pytest

PROTOCOLS = Path(__file__).resolve().parents[2] / "service" / "protocols"
TRANSPORTS = {"fastapi", "starlette", "uvicorn", "grpc", "grpc_health", "grpc_reflection",
              "tritonclient", "tensorflow", "tensorflow_serving", "google"}  # fmt: skip


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(PROTOCOLS.glob("*.py")), ids=lambda p: p.name)
def test_a_codec_imports_no_transport(path):
    assert not imported(path) & TRANSPORTS
