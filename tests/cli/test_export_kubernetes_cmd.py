"""`sdv-studio export kubernetes` as a user runs it: what it writes and prints, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.cli import main
from tests.core.export.kube_check import export_manifests

APP = Path(__file__).resolve().parents[1] / "data" / "apps" / "light_counter.py"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    return tmp_path


def package(capsys: pytest.CaptureFixture[str], name: str, *options: str) -> str:
    assert main(["package", str(APP), "--name", name, "--python", "3.11", "--platform", "x86_64", "--json",
                 *options]) == 0
    value: str = json.loads(capsys.readouterr().out)["packageId"]
    return value


def test_a_docker_package_becomes_manifests(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package_id = package(capsys, "zone-app", "--runtime", "docker", "--memory", "384MB", "--cpu", "0.75")
    out = home / "to-k3s"
    assert main(["export", "kubernetes", package_id, "--output", str(out), "--namespace", "vehicle",
                 "--image", "registry.local:5000/sdv/zone-app:1.0.0", "--node-selector", "zone=front",
                 "--replicas", "2", "--broker", "10.43.0.10:55555", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"output": str(out), "kustomization": str(out / "kustomization.yaml"),
                       "manifests": [str(out / "manifests" / "deployment.yaml")], "buildContext": str(out / "image"),
                       "dockerfile": str(out / "image" / "docker" / "Dockerfile"),
                       "image": "registry.local:5000/sdv/zone-app:1.0.0", "name": "zone-app", "namespace": "vehicle",
                       "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}},
                       "notes": []}
    deployment = export_manifests(out)["Deployment"]
    [app] = deployment["spec"]["template"]["spec"]["containers"]
    assert app["resources"]["limits"] == {"memory": "384Mi", "cpu": "750m"}
    assert deployment["spec"]["template"]["spec"]["nodeSelector"] == {"zone": "front"}

    assert main(["export", "kubernetes", package_id, "-o", str(out), "--waves", "1,100%", "--replicas", "3"]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines() == [
        f"docker build --network none -f {out / 'image' / 'docker' / 'Dockerfile'} -t "
        f"sdv-studio/zone-app:1.0.0-{package_id[4:12]} {out / 'image'}",
        f"kubectl apply -k {out}"]
    assert "--waves 1,100%: Kubernetes replaces pods in steps of one size" in printed.err
    assert "the app is wired to the node's databroker at 127.0.0.1:55555" in printed.err


def test_bad_input_exits_2_with_one_line_per_problem(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    native = package(capsys, "native-app")
    assert main(["export", "kubernetes", native, "--output", str(home / "x"), "--node-selector", "Zone Name=front",
                 "--name", "Native.App"]) == 2
    refused, *options = capsys.readouterr().err.splitlines()
    assert refused.endswith(f"{native}.tar.gz: runs natively (runtimeMode native); the Kubernetes export runs the "
                            "package's container image: package it with --runtime docker")
    assert options == [
        "--name Native.App: must be lowercase letters, digits and hyphens, starting and ending with a letter or digit",
        "--node-selector Zone Name=front: the key's name must be letters, digits, '-', '_' and '.', starting and "
        "ending with a letter or digit"]
    assert main(["export", "kubernetes", native, "--output", str(home / "x"), "--replicas", "0",
                 "--waves", "0"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "--waves 0: '0' is neither a count of devices (1 or more) nor a percentage (above 0%, at most 100%), "
        "e.g. 1,25%,100%",
        "--replicas: must be 1 or more"]
    assert not (home / "x").exists()
