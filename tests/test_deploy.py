"""deploy/: every manifest valid against Kubernetes' schemas (offline), wired to the app."""

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service.main import create_app
from service.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
OVERLAY = DEPLOY / "models-volume"
KUBERNETES = "1.34.0"  # schemas bundled with kubernetes-validate: no network needed


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def build(directory: Path) -> list[dict[str, Any]]:
    """What `kubectl apply -k directory` would send, for the features deploy/ uses:
    resources (files or a base directory), JSON 6902 patches by kind/name, image tags."""
    spec = kustomization(directory)
    docs: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        docs += build(path) if path.is_dir() else list(yaml.safe_load_all(path.read_text()))
    for patch in spec.get("patches", []):
        target = patch["target"]
        for doc in docs:
            if doc["kind"] == target["kind"] and doc["metadata"]["name"] == target["name"]:
                for op in yaml.safe_load((directory / patch["path"]).read_text()):
                    apply_op(doc, op)
    for image in spec.get("images", []):
        for container in containers(docs):
            if container["image"] == image["name"]:
                container["image"] = f"{image['name']}:{image['newTag']}"
    return docs


def apply_op(doc: dict[str, Any], op: dict[str, Any]) -> None:
    """JSON 6902 `add` and `replace` (all deploy/ uses); a missing parent raises."""
    assert op["op"] in ("add", "replace"), op
    *parents, last = op["path"].lstrip("/").split("/")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    value = copy.deepcopy(op["value"])
    if isinstance(node, list):
        node.append(value) if last == "-" else node.__setitem__(int(last), value)
    else:
        assert op["op"] == "add" or last in node, op
        node[last] = value


def containers(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        c
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    ]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [doc] = [d for d in docs if d["kind"] == kind]
    return doc


BASE, WITH_VOLUME = build(DEPLOY), build(OVERLAY)


def test_every_yaml_file_under_deploy_is_applied():
    used = {DEPLOY / "kustomization.yaml", OVERLAY / "kustomization.yaml"}
    for directory in (DEPLOY, OVERLAY):
        spec = kustomization(directory)
        used |= {(directory / r).resolve() for r in spec["resources"]}
        used |= {directory / p["path"] for p in spec.get("patches", [])}
    kserve = DEPLOY / "kserve"  # its own kustomization, for clusters with KServe
    assert {p for p in DEPLOY.rglob("*.yaml") if kserve not in p.parents} <= used


@pytest.mark.parametrize("docs", [BASE, WITH_VOLUME], ids=["base", "models-volume"])
def test_manifests_validate_strictly(docs):
    kinds = sorted(d["kind"] for d in docs)
    assert {"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Service"} <= set(kinds)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_a_misspelled_field_is_caught():
    broken = copy.deepcopy(one(BASE, "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_probes_hit_real_get_routes_on_the_container_port():
    # the OpenAPI paths: the app's routes, however routers are nested
    routes = {path for path, ops in create_app().openapi()["paths"].items() if "get" in ops}
    [container] = containers(BASE)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000, "grpc": 8500}  # uvicorn's port in the image, and gRPC's
    probes = {
        k: container[k]["httpGet"] for k in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    assert probes["readinessProbe"]["path"] == "/health/ready"
    assert probes["livenessProbe"]["path"] == "/health/live"
    for probe in probes.values():
        assert probe["path"] in routes and ports.get(probe["port"], probe["port"]) == 8000


def test_service_hpa_and_settings_point_at_the_deployment():
    deployment, service = one(BASE, "Deployment"), one(BASE, "Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    target = one(BASE, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    config = one(BASE, "ConfigMap")
    [source] = containers(BASE)[0]["envFrom"]
    assert source["configMapRef"]["name"] == config["metadata"]["name"]
    ours = {k.lower(): v for k, v in config["data"].items() if not k.startswith("TF_CPP_")}
    assert set(ours) <= set(Settings.model_fields)  # TF_CPP_* is read by TensorFlow itself
    Settings(**ours)  # values parse


def test_memory_limit_leaves_room_for_a_reload():
    resources = containers(BASE)[0]["resources"]
    mib = {"Mi": 1, "Gi": 1024}
    request, limit = (
        int(resources[k]["memory"][:-2]) * mib[resources[k]["memory"][-2:]]
        for k in ("requests", "limits")
    )
    assert limit >= 2 * request


def test_models_volume_overlay_mounts_the_claim_where_models_dir_points():
    [container] = containers(WITH_VOLUME)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert one(WITH_VOLUME, "ConfigMap")["data"]["MODELS_DIR"] == mounts["models"]
    volumes = one(WITH_VOLUME, "Deployment")["spec"]["template"]["spec"]["volumes"]
    claim = next(v for v in volumes if v["name"] == "models")["persistentVolumeClaim"]
    assert claim["claimName"] == one(WITH_VOLUME, "PersistentVolumeClaim")["metadata"]["name"]
    assert one(BASE, "ConfigMap")["data"]["MODELS_DIR"] == "/app/models"  # base unchanged


def test_grpc_port_is_the_one_the_container_and_service_expose():
    [container] = containers(BASE)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert int(one(BASE, "ConfigMap")["data"]["GRPC_PORT"]) == ports["grpc"]
    service_ports = {p["name"]: p["targetPort"] for p in one(BASE, "Service")["spec"]["ports"]}
    assert service_ports["grpc"] == "grpc"


def test_grace_period_outlasts_the_shutdown_delay_and_the_drain():
    server = pytest.importorskip("service.server")
    pod = one(BASE, "Deployment")["spec"]["template"]["spec"]
    assert "lifecycle" not in pod["containers"][0]  # no preStop sleep: SHUTDOWN_DELAY_S does it
    delay = float(one(BASE, "ConfigMap")["data"]["SHUTDOWN_DELAY_S"])
    assert delay > 0
    grpc = pytest.importorskip("service.grpc.server")  # its calls in flight, after HTTP's
    assert pod["terminationGracePeriodSeconds"] > delay + server.GRACE_S + grpc.GRACE_S


def test_the_package_the_images_and_the_protocols_share_one_version():
    import tomllib

    from service import VERSION

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "service.VERSION"}
    images = [c["image"] for docs in (BASE, WITH_VOLUME) for c in containers(docs)]
    runtime = yaml.safe_load((DEPLOY / "kserve" / "servingruntime.yaml").read_text())
    images += [c["image"] for c in runtime["spec"]["containers"]]
    assert images and {image.rpartition(":")[2] for image in images} == {VERSION}
