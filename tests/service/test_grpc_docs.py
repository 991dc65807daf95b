"""docs/grpc.md: every snippet runs against a server on the committed models and prints
what the page shows (numbers within a relative 1e-4: CPUs may differ in the last digits)."""

import contextlib
import io
import re
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "grpc.md"
BLOCK = re.compile(r"```python\n(.*?)```\n\n```text\n(.*?)```", re.S)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def snippets() -> list[tuple[str, str]]:
    return BLOCK.findall(PAGE.read_text())


def same(shown: str, printed: str) -> bool:
    if NUMBER.sub("#", shown) != NUMBER.sub("#", printed):
        return False
    pairs = zip(NUMBER.findall(shown), NUMBER.findall(printed), strict=True)
    return all(float(a) == pytest.approx(float(b), rel=1e-4, abs=1e-6) for a, b in pairs)


def test_same_compares_text_exactly_and_numbers_loosely():
    assert same("x 2735.6423 y\n", "x 2735.6424 y\n")
    assert not same("x 2735.6423 y\n", "x 2736.9 y\n")
    assert not same("OK 1.0\n", "NOT_FOUND 1.0\n")


def test_every_snippet_prints_what_the_page_shows(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(models_dir=ROOT / "models", grpc_port=port, reload_interval_s=0)
    monkeypatch.chdir(ROOT)  # the snippets read docs/examples/
    found = snippets()
    assert len(found) >= 10
    namespace: dict = {}
    with TestClient(create_app(settings)):
        for code, shown in found:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(code.replace("127.0.0.1:8500", f"127.0.0.1:{port}"), namespace)
            assert same(shown, out.getvalue()), f"{code}\nprinted:\n{out.getvalue()}"
