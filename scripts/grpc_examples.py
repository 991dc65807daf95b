"""The printed output under each gRPC snippet of docs/grpc.md, from the committed models.

Each ```python block followed by a ```text block is run against the app (gRPC on a free
loopback port) and the text block is replaced by what it prints, unless it shows the same
text with numbers within a relative 1e-4 (another CPU computes the last digits otherwise, and
a rerun there must leave the page as it is). `make examples` runs this after the REST
examples; tests/service/test_grpc_docs.py checks the page the same way.
"""

import contextlib
import io
import math
import os
import re
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "grpc.md"
BLOCK = re.compile(r"(```python\n)(.*?)(```\n\n```text\n)(.*?)(```)", re.S)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def same(shown: str, printed: str) -> bool:
    """The same text, its decimal numbers within 1e-4 relative (1e-6 absolute near zero)."""
    if NUMBER.sub("#", shown) != NUMBER.sub("#", printed):
        return False
    pairs = zip(NUMBER.findall(shown), NUMBER.findall(printed), strict=True)
    return all(math.isclose(float(a), float(b), rel_tol=1e-4, abs_tol=1e-6) for a, b in pairs)


def run(snippets: list[str]) -> list[str]:
    """What each snippet prints, in order, sharing one namespace (as the page reads)."""
    from fastapi.testclient import TestClient

    from service.main import create_app
    from service.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(models_dir=ROOT / "models", grpc_port=port, reload_interval_s=0)
    namespace: dict = {}
    printed = []
    with TestClient(create_app(settings)):
        for code in snippets:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(code.replace("127.0.0.1:8500", f"127.0.0.1:{port}"), namespace)
            printed.append(out.getvalue())
    return printed


def main() -> bool:
    """Rewrite the page; True if anything changed."""
    os.chdir(ROOT)  # the snippets read docs/examples/
    text = PAGE.read_text()
    printed = iter(run([m.group(2) for m in BLOCK.finditer(text)]))

    def block(m: re.Match) -> str:
        fresh = next(printed)
        kept = m.group(4) if same(m.group(4), fresh) else fresh
        return m.group(1) + m.group(2) + m.group(3) + kept + m.group(5)

    new = BLOCK.sub(block, text)
    PAGE.write_text(new)
    return new != text


if __name__ == "__main__":
    print(f"docs/grpc.md: {'rewritten' if main() else 'as shown'}")
