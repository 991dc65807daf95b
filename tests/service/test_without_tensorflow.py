"""Serving needs no TensorFlow: with `import tensorflow` made to fail (as in the image, where
it is not installed), the app serves the committed LiteRT models over REST and gRPC, and
INFERENCE_RUNTIME=tensorflow is refused at start-up in one line naming the extra to install.
Each case runs in a fresh process: this one has TensorFlow imported already."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}
# Imported first in each child: any import of these packages fails as if not installed.
BLOCKER = textwrap.dedent("""
    import sys

    class Blocker:
        BLOCKED = {"tensorflow", "tensorflow_serving", "tritonclient", "keras"}

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in self.BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
""")
SERVE = textwrap.dedent("""
    import json, socket
    import grpc, numpy as np
    from fastapi.testclient import TestClient
    from service import examples
    from service.grpc.protos import inference_pb2 as pb, inference_pb2_grpc
    from service.main import create_app
    from service.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(models_dir="models", grpc_port=port, reload_interval_s=0)
    rows = examples.STOCK_ROWS
    window = np.array([[[r[f] for f in ("open", "high", "low", "close", "volume")] for r in rows]],
                      dtype="<f4")
    request = pb.ModelInferRequest(model_name="stock", raw_input_contents=[window.tobytes()])
    request.inputs.add(name="window", datatype="FP32", shape=window.shape)
    request.outputs.add(name="next_close")
    with TestClient(create_app(settings)) as rest:
        answer = rest.post("/predict/stock", json={"rows": rows})
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = inference_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request)
    grpc_values = np.frombuffer(reply.raw_output_contents[0], dtype="<f4").tolist()
    print(json.dumps({"rest": answer.json()["predictions"], "grpc": grpc_values,
                      "status": answer.status_code,
                      "tensorflow": sorted(m for m in sys.modules if m.startswith("tensorf"))}))
""")


def child(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS}
    clean |= {"PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-c", BLOCKER + code], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=180)  # fmt: skip


def test_litert_serves_rest_and_grpc_without_tensorflow():
    done = child(SERVE)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    assert result["tensorflow"] == []
    assert len(result["grpc"]) == len(result["rest"]) == 1
    np.testing.assert_allclose(result["grpc"], result["rest"], rtol=1e-6)


def test_tensorflow_runtime_without_tensorflow_is_refused_in_one_line():
    run = "import runpy; runpy.run_module('service', run_name='__main__', alter_sys=True)"
    done = child(run, {"INFERENCE_RUNTIME": "tensorflow", "MODELS_DIR": "models"})
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 2, lines
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    line = json.loads(lines[0])
    assert line["level"] == "ERROR", line
    assert "INFERENCE_RUNTIME=tensorflow" in line["message"], line
    assert "pip install '.[train]'" in line["message"], line
