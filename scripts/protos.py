"""`make protos`: regenerate service/grpc/protos/*_pb2.py and *_pb2_grpc.py from the .proto
files beside them (grpcio-tools, from the dev extra).

The generated message modules are pointed at the package's own descriptor pool instead of
protobuf's default one (service/grpc/protos/__init__.py says why), and marked as generated
by this script. `--check` regenerates into a temporary folder and exits 1 if any committed
file differs (tests/service/test_protos.py does the same).
"""

import argparse
import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTOS = Path("service/grpc/protos")  # relative to ROOT, which is protoc's include path
HEADER = "# Made from {source} by scripts/protos.py (make protos). DO NOT EDIT.\n"
POOL_IMPORT = "from google.protobuf import descriptor_pool as _descriptor_pool\n"


def sources() -> list[Path]:
    return sorted(PROTOS.glob("*.proto"))


def protoc(args: list[str]) -> None:
    """grpcio-tools' protoc (dev extra), in a process of its own: its bundled C++ protobuf
    must not share a process with TensorFlow's (a test run imports both; that crashes)."""
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I.", *args]
    if subprocess.run(command, cwd=ROOT).returncode != 0:
        sys.exit(f"protoc failed: {args}")


def own_pool(text: str) -> str:
    """The module built into service.grpc.protos.POOL rather than the default pool."""
    if POOL_IMPORT not in text or "_descriptor_pool.Default()" not in text:
        sys.exit("the generated code no longer looks as scripts/protos.py expects")
    text = text.replace(POOL_IMPORT, "from service.grpc import protos as _protos\n")
    return text.replace("_descriptor_pool.Default()", "_protos.POOL")


def generate(out: Path) -> list[Path]:
    """Write every generated module under `out` (mirroring ROOT); returns their paths."""
    with contextlib.chdir(ROOT):  # protoc names each file by its path from the include root
        protos = [str(p) for p in sources()]
        with_services = [p for p in protos if "\nservice " in Path(p).read_text()]
        protoc([f"--python_out={out}", *protos])
        protoc([f"--grpc_python_out={out}", *with_services])
    written = sorted((out / PROTOS).glob("*_pb2*.py"))
    for path in written:
        text = path.read_text()
        if path.name.endswith("_pb2.py"):
            text = own_pool(text)
        source = path.name.split("_pb2")[0] + ".proto"
        path.write_text(HEADER.format(source=source) + text)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        made = generate(Path(tmp))
        stale = []
        for path in made:
            committed = ROOT / path.relative_to(tmp)
            new = path.read_bytes()
            if not committed.exists() or committed.read_bytes() != new:
                stale.append(committed.relative_to(ROOT))
                if not args.check:
                    committed.write_bytes(new)
    verb = "differ" if args.check else "rewritten"
    print(f"{len(stale)} of {len(made)} generated modules {verb}: {[str(p) for p in stale]}")
    sys.exit(1 if args.check and stale else 0)


if __name__ == "__main__":
    main()
