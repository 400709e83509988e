"""Security levels on the rig: a restricted app is held to the signals it declared, a sandboxed
container reaches its databroker and no other device, a sandboxed native app runs without new
privileges (this rig has no systemd, and says what that leaves out), military refuses such a device,
and an app reaches a TLS databroker with a token and CA given for it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO

import pytest

from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.security.tokens import mint, workstation_key
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.broker.helpers import tls_files
from tests.core.deploy.conftest import AGENT, FAST, agent_status, broker_token, build, deploy
from tests.locations import REPO
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

DECLARING_APP = """\
import time

from kuksa_client.grpc import Datapoint, VSSClient, VSSClientError

# As the KUKSA documentation writes it: no token in the code; SDV Studio's launcher hands it over.
with VSSClient("127.0.0.1", 55555) as client:
    for path, value in (("Vehicle.Speed", 42.0), ("Vehicle.Body.Horn.IsActive", True)):
        try:
            client.set_current_values({path: Datapoint(value)})
            print(f"write {path}: accepted", flush=True)
        except VSSClientError as exc:
            print(f"write {path}: refused {exc}", flush=True)
    while True:
        time.sleep(1)
"""
MANIFEST = {"manifestVersion": "v3", "name": "declared", "interfaces": [{
    "type": "vehicle-signal-interface", "config": {"datapoints": {"required": [
        {"path": "Vehicle.Speed", "access": "write"},
        {"path": "Vehicle.Cabin.Light.IsDomeOn", "access": "read"}]}}}]}
PROBING_APP = """\
import os
import socket
import time

from kuksa_client.grpc import Datapoint, VSSClient

host, _, port = os.environ["KUKSA_ENDPOINT"].rpartition(":")
with VSSClient(host, int(port)) as client:
    client.set_current_values({"Vehicle.Speed": Datapoint(77.0)})
    print("databroker: wrote Vehicle.Speed", flush=True)
try:
    socket.create_connection(("OTHER_DEVICE", 22), timeout=3).close()
    print("other device: connected", flush=True)
except OSError as exc:
    print(f"other device: unreachable ({exc})", flush=True)
while True:
    time.sleep(1)
"""
WRITING_APP = """\
import os
import time

from kuksa_client.grpc import Datapoint, VSSClient

host, _, port = os.environ["KUKSA_ENDPOINT"].rpartition(":")
with VSSClient(host, int(port)) as client:
    client.set_current_values({"Vehicle.Speed": Datapoint(77.0)})
    print("databroker: wrote Vehicle.Speed", flush=True)
while True:
    time.sleep(1)
"""
READ_BACK = """\
import json, os, sys
from pathlib import Path
from kuksa_client.grpc import VSSClient

ca = os.environ.get("CA_FILE")
with VSSClient("127.0.0.1", int(os.environ["PORT"]), token=os.environ["KUKSA_TOKEN"],
               root_certificates=Path(ca) if ca else None) as client:
    values = client.get_current_values(sys.argv[1:])
print(json.dumps({path: (point.value if point else None) for path, point in values.items()}))
"""
SECURITY = {"interAppCommunication": False}


@pytest.fixture
def records(tmp_path: Path) -> DeploymentRecords:
    return DeploymentRecords(tmp_path / "records")


def _security(sandbox: str, access: str = "restricted") -> dict[str, object]:
    return {**SECURITY, "sandboxLevel": sandbox, "dataAccess": access}


def read_back(device: Device, *paths: str, token: str | None = None, port: int = 55555,
              ca: Path | None = None) -> dict[str, object]:
    env = {**os.environ, "KUKSA_TOKEN": token or broker_token(), "PORT": str(port), "CA_FILE": str(ca or "")}
    done = subprocess.run(["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-c", READ_BACK, *paths],
                          capture_output=True, text=True, timeout=60, env=env, check=True)
    values: dict[str, object] = json.loads(done.stdout)
    return values


def app_log(device: Device, name: str, want: str, timeout: float = 30) -> list[str]:
    """The app's log once a line holds ``want``."""
    deadline = time.monotonic() + timeout
    while True:
        out = device.run(f"{AGENT} logs '{json.dumps({'name': name, 'lines': 60})}'", user=LOGIN_USER).stdout
        lines: list[str] = json.loads(out)["lines"]
        if any(want in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.3)


def test_a_restricted_app_writing_a_signal_it_did_not_declare_is_refused_by_the_databroker(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    project = tmp_path / "declared"
    project.mkdir()
    (project / "main.py").write_text(DECLARING_APP)
    (project / "AppManifest.json").write_text(json.dumps(MANIFEST))
    (project / "requirements.txt").write_text("kuksa-client\n")
    package = build(tmp_path, project, "declared", platforms=["x86_64"])  # dataAccess: restricted, the default
    device = rig["d5"]
    device.stop_sdv_apps()  # SDV Studio's databroker, started by this deployment
    result, _ = deploy(rig, [device], package, trust, records)
    row = result.device("d5")
    assert result.status == "completed", (row.message, row.logs[-8:])
    assert row.security is not None and row.security.data_access == "restricted"
    assert "writes Vehicle.Speed; reads Vehicle.Cabin.Light.IsDomeOn (from app/AppManifest.json)" in \
        row.security.enforced[0]

    lines = app_log(device, "declared", "write Vehicle.Body.Horn.IsActive")
    assert "write Vehicle.Speed: accepted" in lines, lines
    [refused] = [line for line in lines if line.startswith("write Vehicle.Body.Horn.IsActive")]
    assert "refused" in refused and "permission denied" in refused, refused
    assert read_back(device, "Vehicle.Speed", "Vehicle.Body.Horn.IsActive") == {
        "Vehicle.Speed": 42.0, "Vehicle.Body.Horn.IsActive": None}


def test_a_sandboxed_container_reaches_its_databroker_and_cannot_connect_to_another_device(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device, other = rig["d2"], rig["d3"]
    reachable = device.run(f"python3 -c \"import socket; socket.create_connection(('{other.ip}', 22), 3)\"",
                           check=False)
    assert reachable.returncode == 0, "the device itself reaches the other device: the sandbox is what blocks"
    package = build(tmp_path, PROBING_APP.replace("OTHER_DEVICE", other.ip), "strictbox", runtime="docker",
                    security=_security("advanced"))
    result, _ = deploy(rig, [device], package, trust, records)
    row = result.device("d2")
    assert result.status == "completed", (row.message, row.logs[-8:])
    assert row.security is not None and row.security.sandbox_level == "advanced"
    assert any(line.startswith("sandbox: no network but the databroker's") for line in row.security.enforced)
    assert row.security.memory_enforced and row.security.cpu_enforced and row.security.limits_by == "container engine"

    [container] = device.run("docker ps -q --filter label=io.sdv-studio.app=strictbox").stdout.split()
    [inspect] = json.loads(device.run(f"docker inspect {container}").stdout)
    assert inspect["HostConfig"]["NetworkMode"] == "none"
    deadline = time.monotonic() + 30
    while "other device:" not in (logs := device.run(f"docker logs {container} 2>&1").stdout):
        assert time.monotonic() < deadline, logs
        time.sleep(0.3)
    assert "databroker: wrote Vehicle.Speed" in logs and "other device: unreachable" in logs, logs
    assert read_back(device, "Vehicle.Speed") == {"Vehicle.Speed": 77.0}


def test_a_sandboxed_native_app_runs_without_new_privileges_and_says_what_needs_systemd(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = rig["d6"]
    package = build(tmp_path, REPO / "tests/data/apps/light_counter.py", "nativebox", security=_security("advanced"))
    result, _ = deploy(rig, [device], package, trust, records)
    row = result.device("d6")
    assert result.status == "completed", (row.message, row.logs[-8:])
    [app] = agent_status(device, "nativebox")["apps"]
    status = device.run(f"cat /proc/{app['pid']}/status").stdout
    assert "NoNewPrivs:\t1" in status
    assert row.security is not None and "sandbox: NoNewPrivileges=yes" in row.security.enforced
    assert [line.split(":")[1].strip() for line in row.security.not_enforced if line.startswith("sandbox:")] == [
        "ProtectSystem", "PrivateTmp", "IPAddressAllow"]
    assert not row.security.cpu_enforced and "NOT enforced:" in row.message and "IPAddressAllow" in row.message

    military = build(tmp_path, REPO / "tests/data/apps/light_counter.py", "nativebox", "2.0.0",
                     security=_security("military"))
    refused, _ = deploy(rig, [device], military, trust, records)
    assert refused.status == "failed"
    assert refused.device("d6").error == (
        "sandboxLevel military: this device cannot enforce ProtectSystem, PrivateTmp and IPAddressAllow, and the "
        "memory and CPU limits (systemd is not usable there) (package with sandboxLevel advanced to run with what "
        "it can enforce)")
    assert agent_status(device, "nativebox")["apps"][0]["version"] == "1.0.0"  # nothing was started


@contextlib.contextmanager
def secured_broker(device: Device, folder: Path, port: int) -> Iterator[tuple[str, Path]]:
    """A TLS databroker on the device's loopback that verifies tokens of a key SDV Studio does not hold:
    yields a token it accepts for every signal and its CA (the self-signed certificate)."""
    key = workstation_key(folder / "other-key.pem")
    public = folder / "other.pub.pem"
    public.write_bytes(key.public_pem)
    cert, private = tls_files(folder)
    argv = [sys.executable, "-m", "sdv_studio.broker", "--address", "127.0.0.1", "--port", str(port), "--no-mqtt",
            "--tls-cert", str(cert), "--tls-private-key", str(private), "--jwt-public-key", str(public)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(["nsenter", "-t", str(device.pid), "-n", "--", *argv], cwd=REPO,
                                   env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while b"listening" not in _read(log):
                assert process.poll() is None and time.monotonic() < deadline, _read(log)
                time.sleep(0.2)
            yield mint(key, "given", "read provide actuate"), cert
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_an_app_reaches_a_tls_databroker_with_the_token_and_ca_given_for_it(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device, port = rig["d4"], 55560
    package = build(tmp_path, WRITING_APP, "tlsclient")
    with secured_broker(device, tmp_path, port) as (token, ca):
        options = replace(FAST, broker=f"127.0.0.1:{port}", broker_token=token, broker_ca=ca.read_bytes())
        result, _ = deploy(rig, [device], package, trust, records, options)
        row = result.device("d4")
        assert result.status == "completed", (row.message, row.logs[-8:])
        assert row.security is not None
        assert [line.split(" ", 1)[0] for line in row.security.not_enforced] == ["memory", "CPU"]  # no cgroups here
        assert row.security.enforced == [
            f"databroker token: the one given, scoped as its issuer made it (127.0.0.1:{port})",
            "TLS to the databroker, verified with the given CA"]
        assert "databroker: wrote Vehicle.Speed" in app_log(device, "tlsclient", "databroker:")
        assert read_back(device, "Vehicle.Speed", token=token, port=port, ca=ca) == {"Vehicle.Speed": 77.0}


def _read(log: IO[bytes]) -> bytes:
    log.seek(0)
    return log.read()
