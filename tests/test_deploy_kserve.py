"""deploy/kserve/: the ServingRuntime and InferenceService, checked offline against the field
names and types of KServe's own Python SDK (its generated models of the CRDs) and the
Kubernetes client's, and wired to the image and the service's settings."""

import copy
import importlib.util
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.__main__ import parse_args
from service.settings import Settings

if importlib.util.find_spec("kserve") is None:
    pytest.skip("KServe's SDK comes with the dev install", allow_module_level=True)

KSERVE = Path(__file__).resolve().parents[1] / "deploy" / "kserve"
PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object}
ROOTS = ("V1alpha1ServingRuntime", "V1beta1InferenceService")
# `import kserve` registers the Open Inference Protocol's messages in protobuf's default pool,
# as the gRPC clients in other tests do: one process cannot hold both, so the SDK's field
# tables are read in a process of their own.
DUMP = """
import json, re, sys
import kserve, kubernetes.client as k
seen, todo = {}, list(sys.argv[1:])
while todo:
    name = todo.pop()
    cls = getattr(kserve, name, None) or getattr(k, name, None)
    if name in seen or cls is None:
        continue
    seen[name] = {"types": cls.openapi_types, "json": cls.attribute_map}
    todo += re.findall(r"V[0-9]\\w+", " ".join(cls.openapi_types.values()))
print(json.dumps(seen))
"""


@cache
def sdk() -> dict[str, dict[str, dict[str, str]]]:
    """Every model class reachable from ROOTS: its field types and JSON names, by class."""
    out = subprocess.run([sys.executable, "-c", DUMP, *ROOTS], capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    return json.loads(out.stdout)


def model_class(name: str) -> dict[str, dict[str, str]]:
    found = sdk().get(name)
    assert found is not None, f"no model class {name} in KServe's or Kubernetes' SDK"
    return found


def check(value: Any, kind: str, where: str) -> None:
    """`value` has the type the SDK's `openapi_types` string `kind` names; unknown keys fail."""
    if found := re.fullmatch(r"[lL]ist\[(.+)\]", kind):
        assert isinstance(value, list), f"{where}: a list"
        for i, item in enumerate(value):
            check(item, found[1], f"{where}[{i}]")
    elif found := re.fullmatch(r"(?:dict\(str, (.+)\)|Dict\[str, (.+)\])", kind):
        assert isinstance(value, dict), f"{where}: a mapping"
        for key, item in value.items():
            check(item, found[1] or found[2], f"{where}.{key}")
    elif kind in PRIMITIVES:
        assert isinstance(value, PRIMITIVES[kind]), f"{where}: {kind}, not {value!r}"
    else:
        cls = model_class(kind)
        assert isinstance(value, dict), f"{where}: a {kind} object"
        fields = {name: attr for attr, name in cls["json"].items()}
        for key, item in value.items():
            assert key in fields, f"{where}: {kind} has no field {key!r}"
            check(item, cls["types"][fields[key]], f"{where}.{key}")


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((KSERVE / name).read_text())


RUNTIME, ISVC = load("servingruntime.yaml"), load("inferenceservice.yaml")


@pytest.mark.parametrize(
    ("doc", "kind"),
    [(RUNTIME, ROOTS[0]), (ISVC, ROOTS[1])],
    ids=["ServingRuntime", "InferenceService"],
)
def test_manifest_has_only_known_fields_of_the_right_types(doc, kind):
    assert doc["apiVersion"].startswith("serving.kserve.io/")
    check(doc, kind, doc["kind"])


def test_a_misspelled_field_is_caught():
    broken = copy.deepcopy(RUNTIME)
    broken["spec"]["containers"][0]["arg"] = ["--port", "8080"]
    with pytest.raises(AssertionError, match="has no field 'arg'"):
        check(broken, ROOTS[0], "ServingRuntime")


def test_kustomization_applies_both():
    spec = yaml.safe_load((KSERVE / "kustomization.yaml").read_text())
    assert set(spec["resources"]) == {p.name for p in KSERVE.glob("*.yaml")} - {
        "kustomization.yaml"
    }


def test_runtime_declares_the_protocols_the_service_speaks():
    assert set(RUNTIME["spec"]["protocolVersions"]) == {"v1", "v2", "grpc-v2"}


def test_runtime_reads_models_where_the_storage_initializer_puts_them():
    [container] = RUNTIME["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MODELS_DIR"] == "/mnt/models"  # KServe's storage initializer's target
    settings = Settings(**{k.lower(): v for k, v in env.items()})  # every value parses
    assert settings.grpc_port == 8081  # KServe's default gRPC port for the v2 protocol
    args = container["args"]
    [port] = container["ports"]
    assert int(args[args.index("--port") + 1]) == port["containerPort"] == 8080


def test_runtime_runs_the_images_command_with_its_own_arguments():
    """Kubernetes runs `args` alone as the image's ENTRYPOINT's arguments, or as the command
    when the image has none: the runtime must name the command the image's CMD runs."""
    [container] = RUNTIME["spec"]["containers"]
    dockerfile = (KSERVE.parents[1] / "Dockerfile").read_text()
    assert not re.search(r"^ENTRYPOINT", dockerfile, re.M)
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert container["command"] == cmd[:3] == ["python", "-m", "service"]
    options = parse_args(container["args"])
    assert (options.host, options.port) == ("0.0.0.0", 8080)


def test_inference_service_uses_the_runtime_and_its_model_format():
    model = ISVC["spec"]["predictor"]["model"]
    assert model["runtime"] == RUNTIME["metadata"]["name"]
    formats = {f["name"] for f in RUNTIME["spec"]["supportedModelFormats"]}
    assert model["modelFormat"]["name"] in formats
    assert model["protocolVersion"] in RUNTIME["spec"]["protocolVersions"]
