"""The exported build context builds on a real engine (podman, as the rig's devices run it), and the
image runs under the pod's security settings with the Deployment's own probes passing inside it.

No cluster (K3s) is available here: the pod's settings are given to podman as its flags."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.export.kubernetes import KubeOptions, export_kubernetes
from tests.core.deploy.conftest import APPS, build
from tests.core.export.kube_check import export_manifests
from tests.rig.image import STORE, ensure_base_image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("podman") is None or os.geteuid() != 0,
                       reason="needs podman as root (the rig's engine)"),
]


class Podman:
    """podman with a store of its own under the test's folder, the rig's base image read-only beside it."""

    def __init__(self, folder: Path, runroot: Path) -> None:  # podman takes a runroot of 50 characters at most
        self.flags = ["--root", str(folder), "--runroot", str(runroot), "--storage-driver", "overlay",
                      "--storage-opt", f"additionalimagestore={STORE}", "--cgroup-manager", "cgroupfs",
                      "--events-backend", "file"]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["podman", *self.flags, *args], capture_output=True, text=True, check=False, timeout=600)
        assert not check or done.returncode == 0, done.stderr[-3000:]
        return done


def pod_flags(app: dict[str, Any]) -> list[str]:
    """The container's securityContext, tmp volume and environment as podman run flags."""
    security = app["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]} and security["allowPrivilegeEscalation"] is False
    flags = ["--user", f"{security['runAsUser']}:{security['runAsGroup']}", "--cap-drop", "ALL",
             "--security-opt", "no-new-privileges", "--tmpfs", "/tmp:rw,size=100m",
             # this machine's hard limits are below podman's defaults (as on the rig's devices)
             "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
    if security["readOnlyRootFilesystem"]:
        flags.append("--read-only")
    for item in app["env"]:
        if "value" in item:
            flags += ["--env", f"{item['name']}={item['value']}"]
    return flags


def test_the_exported_image_builds_and_passes_its_probes(tmp_path: Path) -> None:
    package: PackageFile = build(tmp_path, APPS / "light_counter.py", "dock", runtime="docker", platforms=["x86_64"])
    base = ensure_base_image()
    done = export_kubernetes(package, tmp_path / "k", KubeOptions())
    [app] = export_manifests(tmp_path / "k")["Deployment"]["spec"]["template"]["spec"]["containers"]
    runroot = Path(tempfile.mkdtemp(prefix="sdv-kube-"))
    podman = Podman(tmp_path / "podman", runroot)
    try:
        # As the README says, with the base image this machine has in place of Docker Hub's.
        podman("build", "--network", "none", "--build-arg", f"BASE_IMAGE={base}", "-f", str(done.dockerfile),
               "-t", done.image, str(done.context))
        started = podman("run", "--detach", "--network", "none", *pod_flags(app), done.image).stdout.strip()
        probes = {"readiness": app["readinessProbe"]["exec"]["command"],
                  "liveness": app["livenessProbe"]["exec"]["command"]}
        answers: dict[str, subprocess.CompletedProcess[str]] = {}
        deadline = time.monotonic() + 120  # a bound for a loaded machine, not a measurement
        while time.monotonic() < deadline and (not answers or any(a.returncode for a in answers.values())):
            time.sleep(1)
            answers = {kind: podman("exec", started, *command, check=False) for kind, command in probes.items()}
        for kind, answer in answers.items():
            assert answer.returncode == 0, f"{kind}: {answer.stdout}{answer.stderr}"
            assert '"app_running": true' in answer.stdout
        assert "tick" in podman("logs", started).stdout  # the app itself runs, under the launcher
    finally:
        podman("rm", "--force", "--all", check=False)
        podman("rmi", "--force", "--all", check=False)
        shutil.rmtree(runroot, ignore_errors=True)
