"""The Kubernetes export's manifests, validated strictly against the Kubernetes schemas (no cluster
here: test_kubernetes_image.py builds and runs the exported image on a real engine)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.waves import MaxFailed, parse_waves
from sdv_studio.core.export.ansible import Rollout
from sdv_studio.core.export.kubernetes import KubeOptions, KubernetesInvalid, export_kubernetes
from sdv_studio.core.packaging.docker import health_command
from tests.core.deploy.conftest import APPS, build
from tests.core.export.kube_check import VERSIONS, export_manifests, validated

OVERLAY = APPS / "corpus" / "dogmode-overlay" / "dog-mode" / "vspec" / "dogmode.vspec"


@pytest.fixture(scope="module")
def dock(tmp_path_factory: pytest.TempPathFactory) -> PackageFile:
    """A Docker-runtime app with limits of its own (not the defaults)."""
    return build(tmp_path_factory.mktemp("dock"), APPS / "light_counter.py", "dock", runtime="docker",
                 platforms=["x86_64", "aarch64"], memory="256MB", cpu="0.25")


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory) -> PackageFile:
    """A Docker-runtime app in the strict sandbox, carrying its own VSS catalogue (a .vspec overlay)."""
    source = tmp_path_factory.mktemp("overlay") / "dog"
    source.mkdir()
    shutil.copy(APPS / "light_counter.py", source / "main.py")
    shutil.copy(OVERLAY, source / "dogmode.vspec")
    return build(source.parent, source, "dog-mode", runtime="docker", platforms=["x86_64"],
                 security={"sandboxLevel": "advanced"})


def container(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [app] = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    return app


def env(app: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in app["env"]}


def test_the_validator_rejects_what_kubernetes_would(tmp_path: Path, dock: PackageFile) -> None:
    export_kubernetes(dock, tmp_path / "k", KubeOptions())
    deployment = validated(tmp_path / "k" / "manifests" / "deployment.yaml")
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    for version in VERSIONS:
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(misspelt, version, strict=True)


def test_a_deployment_runs_the_app_as_the_container_runtime_does(tmp_path: Path, dock: PackageFile) -> None:
    out = tmp_path / "k"
    done = export_kubernetes(dock, out, KubeOptions(namespace="vehicle",
                                                    node_selector=["kubernetes.io/hostname=zone-front"]))
    manifests = export_manifests(out)
    assert list(manifests) == ["Deployment"]  # a basic sandbox on the node's network: no policy, no service
    deployment = manifests["Deployment"]
    assert deployment["metadata"]["name"] == "dock" and deployment["metadata"]["namespace"] == "vehicle"
    assert deployment["metadata"]["labels"]["sdv-studio/package"] == dock.package_id
    pod = deployment["spec"]["template"]["spec"]
    app = container(manifests)
    assert app["image"] == done.image == f"sdv-studio/dock:1.0.0-{dock.package_id[4:12]}"
    assert app["resources"] == {"limits": {"memory": "256Mi", "cpu": "250m"},
                                "requests": {"memory": "128Mi", "cpu": "125m"}}
    assert app["readinessProbe"]["exec"]["command"] == health_command()
    assert (app["livenessProbe"]["periodSeconds"], app["livenessProbe"]["timeoutSeconds"],
            app["livenessProbe"]["failureThreshold"]) == (30, 8, 3)  # the image's HEALTHCHECK
    assert deployment["spec"]["minReadySeconds"] == 3
    variables = env(app)
    port = variables["SDV_HEALTH_PORT"]
    assert variables["KUKSA_ENDPOINT"] == "127.0.0.1:55555" and variables["APP_VERSION"] == "1.0.0"
    assert variables["KUKSA_TOKEN"] == {"secretKeyRef": {"name": "dock-kuksa", "key": "token", "optional": True}}
    # The node's own databroker, reached on the node's network; the health port is the scheduler's to keep apart.
    assert pod["hostNetwork"] is True and app["ports"] == [{"name": "health", "containerPort": int(port),
                                                            "hostPort": int(port)}]
    assert app["securityContext"]["runAsUser"] == 1000 and app["securityContext"]["readOnlyRootFilesystem"]
    assert app["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "zone-front"}
    arches = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert arches["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["amd64", "arm64"]
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert any("node's databroker" in note for note in done.notes)

    # The build context is the package, as a device's engine gets it.
    assert {p.relative_to(out / "image").as_posix() for p in (out / "image").rglob("*") if p.is_file()} == set(
        dock.entries)
    assert (out / "image" / "docker" / "Dockerfile").read_bytes() == dock.entries["docker/Dockerfile"]
    readme = (out / "README.md").read_text()
    assert "k3s ctr images import dock.tar" in readme and f"docker save {done.image}" in readme
    assert "kubectl -n vehicle rollout undo deployment/dock" in readme


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_the_export(tmp_path: Path, sandboxed: PackageFile) -> None:
    export_kubernetes(sandboxed, tmp_path / "k", KubeOptions(broker="10.43.0.10:55555"))
    rendered = subprocess.run(["kubectl", "kustomize", str(tmp_path / "k")], capture_output=True, text=True,
                              check=True).stdout
    assert sorted(doc["kind"] for doc in yaml.safe_load_all(rendered)) == ["ConfigMap", "Deployment", "NetworkPolicy"]


def test_a_sandboxed_app_reaches_its_databroker_alone(tmp_path: Path, sandboxed: PackageFile) -> None:
    done = export_kubernetes(sandboxed, tmp_path / "k", KubeOptions(broker="grpc://10.43.0.10:55555"))
    manifests = export_manifests(tmp_path / "k")
    policy = manifests["NetworkPolicy"]["spec"]
    assert policy["ingress"] == [] and policy["egress"] == [
        {"ports": [{"protocol": "TCP", "port": 55555}, {"protocol": "TCP", "port": 1883}],
         "to": [{"ipBlock": {"cidr": "10.43.0.10/32"}}]}]
    assert "hostNetwork" not in manifests["Deployment"]["spec"]["template"]["spec"]
    assert env(container(manifests))["SDV_MQTT_ADDRESS"] == "mqtt://10.43.0.10:1883"
    assert env(container(manifests))["SDV_HEALTH_PORT"] == "8080"  # the pod's own network: the image's port
    assert done.notes == []
    # The package's own catalogue, for the databroker to load.
    catalogue = json.loads(manifests["ConfigMap"]["data"]["vss.json"])
    assert "DogMode" in catalogue["Vehicle"]["children"]["Cabin"]["children"]
    assert catalogue == json.loads(sandboxed.entries["support/vss.json"])
    assert "mount it into the cluster's KUKSA databroker" in (tmp_path / "k" / "README.md").read_text()

    named = export_kubernetes(sandboxed, tmp_path / "k", KubeOptions(broker="kuksa.vehicle.svc:55555"))
    egress = export_manifests(tmp_path / "k")["NetworkPolicy"]["spec"]["egress"]
    assert egress[1] == {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    assert "to" not in egress[0] and any("host name (kuksa.vehicle.svc)" in n for n in named.notes)

    # On the node's network no NetworkPolicy applies: said, not pretended.
    local = export_kubernetes(sandboxed, tmp_path / "k", KubeOptions())
    assert "NetworkPolicy" not in export_manifests(tmp_path / "k")
    assert any(note.startswith("sandboxLevel advanced: ") and "not isolated" in note for note in local.notes)


def test_the_military_sandbox_is_refused_what_it_cannot_have(tmp_path: Path) -> None:
    military = build(tmp_path, APPS / "light_counter.py", "strict", runtime="docker", platforms=["x86_64"],
                     security={"sandboxLevel": "military"})
    with pytest.raises(KubernetesInvalid) as refused:
        export_kubernetes(military, tmp_path / "k", KubeOptions())
    assert refused.value.problems == [
        "sandboxLevel military: the databroker 127.0.0.1:55555 is the node's own, so the pod shares the node's "
        "network (hostNetwork), which no NetworkPolicy reaches; refused: give --broker with the databroker's "
        "cluster address"]
    assert not (tmp_path / "k").exists()
    export_kubernetes(military, tmp_path / "k", KubeOptions(broker="10.43.0.10:55555"))
    assert "NetworkPolicy" in export_manifests(tmp_path / "k")


def test_waves_map_to_the_rolling_update_and_the_rest_is_said(tmp_path: Path, dock: PackageFile) -> None:
    rollout = Rollout(parse_waves("25%,100%"), MaxFailed(count=0), "25%,100%")
    done = export_kubernetes(dock, tmp_path / "k", KubeOptions(replicas=8, rollout=rollout))
    spec = export_manifests(tmp_path / "k")["Deployment"]["spec"]
    assert (spec["replicas"], spec["strategy"]["rollingUpdate"]) == (8, {"maxSurge": 2, "maxUnavailable": 0})
    assert [n for n in done.notes if n.startswith("--")] == [
        "--waves 25%,100%: Kubernetes replaces pods in steps of one size, so 8 replica(s) roll out 2 at a time "
        "(the first wave); the later waves' sizes [6] do not map"]

    cold = Rollout(parse_waves("1,2,3"), MaxFailed(percent=10), "1,2,3")
    done = export_kubernetes(dock, tmp_path / "k", KubeOptions(replicas=3, hot_swap=False, rollout=cold))
    spec = export_manifests(tmp_path / "k")["Deployment"]["spec"]
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}  # the old stopped first
    assert [n for n in done.notes if n.startswith("--")] == [
        "--max-failed 10%: does not map; a rollout stops at the first pod that does not become ready and is "
        "reported failed after progressDeadlineSeconds (600)"]


def test_names_from_outside_are_refused_naming_their_option(tmp_path: Path, dock: PackageFile) -> None:
    with pytest.raises(KubernetesInvalid) as refused:
        export_kubernetes(dock, tmp_path / "k", KubeOptions(
            name="Dock_App", namespace="-vehicle", image="Registry/App", node_selector=["zone=front", "zone"],
            broker="kuksa"))
    assert refused.value.problems == [
        "--name Dock_App: must be lowercase letters, digits and hyphens, starting and ending with a letter or digit",
        "--namespace -vehicle: must be lowercase letters, digits and hyphens, starting and ending with a letter "
        "or digit",
        "--node-selector zone: must be KEY=VALUE, e.g. kubernetes.io/hostname=zone-front",
        "--image Registry/App: not an image reference like registry.example.com/team/app:1.0 (lowercase "
        "repository, optional tag)",
        "--broker kuksa: must be HOST:PORT, e.g. kuksa-databroker.vehicle.svc:55555"]


def test_a_long_package_name_still_names_every_object(tmp_path: Path) -> None:
    name = "a" * 60 + "-bc"  # 63: the longest a package name may be
    long = build(tmp_path, APPS / "light_counter.py", name, runtime="docker", platforms=["x86_64"])
    export_kubernetes(long, tmp_path / "k", KubeOptions())
    app = container(export_manifests(tmp_path / "k"))
    assert env(app)["KUKSA_TOKEN"]["secretKeyRef"]["name"] == "a" * 57 + "-kuksa"


def test_a_native_package_is_refused(tmp_path: Path) -> None:
    native = build(tmp_path, APPS / "light_counter.py", "native", platforms=["x86_64"])
    with pytest.raises(KubernetesInvalid) as refused:
        export_kubernetes(native, tmp_path / "k", KubeOptions())
    assert refused.value.problems == [
        f"{native.path}: runs natively (runtimeMode native); the Kubernetes export runs the package's container "
        "image: package it with --runtime docker"]


def test_an_earlier_export_is_replaced_and_other_folders_are_refused(tmp_path: Path, sandboxed: PackageFile,
                                                                     dock: PackageFile) -> None:
    out = tmp_path / "k"
    export_kubernetes(sandboxed, out, KubeOptions(broker="10.43.0.10:55555"))
    export_kubernetes(dock, out, KubeOptions())
    assert sorted(p.name for p in (out / "manifests").iterdir()) == ["deployment.yaml"]
    assert not (out / "image" / "support" / "vss.json").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(KubernetesInvalid) as refused:
        export_kubernetes(dock, tmp_path / "mine", KubeOptions())
    assert refused.value.problems == [f"--output {tmp_path / 'mine'}: not empty and not an earlier export; name a "
                                      "new or empty folder"]


def test_a_catalogue_too_large_for_a_configmap_stays_in_the_build_context(
        tmp_path: Path, sandboxed: PackageFile, monkeypatch: pytest.MonkeyPatch) -> None:
    size = len(sandboxed.entries["support/vss.json"])
    monkeypatch.setattr("sdv_studio.core.export.kubernetes.CONFIGMAP_MAX", size - 1)
    done = export_kubernetes(sandboxed, tmp_path / "k", KubeOptions(broker="10.43.0.10:55555"))
    assert "ConfigMap" not in export_manifests(tmp_path / "k")
    assert f"the package's VSS catalogue (support/vss.json, {size} bytes) is over a ConfigMap's {size - 1} bytes: " \
           "it is in image/support/vss.json, not in a ConfigMap" in done.notes
