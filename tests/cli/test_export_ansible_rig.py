"""`sdv-studio export ansible` run by ansible-playbook (ansible-core, the test extra) against the rig's six
working devices from the workstation namespace, as a fleet's Ansible would: the app runs on all of them
with its token and `sdv-studio status` shows it; SDV Studio's databroker there lets in only tokens the
workstation's key signed; with waves, a device failing in the first batch stops the rollout, and the
databroker the first export started is recognised as SDV Studio's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.core.deploy.conftest import AGENT, agent_status
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "data" / "apps" / "fails_with_marker.py"
MARKER = f"/home/{LOGIN_USER}/sdv-test-fail-marker"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
ANSIBLE_VAULT = str(Path(sys.executable).parent / "ansible-vault")
# Two reads of a signal from inside the device's network: without a token, then with the one in argv[1].
READS = """
import sys
from kuksa_client.grpc import VSSClient, VSSClientError
try:
    with VSSClient("127.0.0.1", 55555) as client:
        client.get_current_values(["Vehicle.Speed"])
    print("read without a token")
except VSSClientError as exc:
    print("refused:", exc.error["reason"])
with VSSClient("127.0.0.1", 55555, token=sys.argv[1]) as client:
    print("read:", sorted(client.get_current_values(["Vehicle.Speed"])))
"""
pytestmark = pytest.mark.rig


def sdv(rig: Rig | None, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "sdv_studio", *args]
    env = dict(os.environ, SDV_STUDIO_HOME=str(home))
    result = subprocess.run(rig.workstation_argv(*argv) if rig else argv, capture_output=True, text=True, env=env,
                            cwd=REPO, timeout=600, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def ansible_playbook(rig: Rig, export: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The export run as its deploy.yml says, from the workstation namespace (6 forks: one per device)."""
    env = dict(os.environ, ANSIBLE_HOME=str(tmp / "ansible-home"), ANSIBLE_NOCOLOR="1")
    argv = [ANSIBLE_PLAYBOOK, "-i", "inventory.yml", "deploy.yml", "--forks", "6", *extra]
    return subprocess.run(rig.workstation_argv(*argv), capture_output=True, text=True, env=env, cwd=export,
                          timeout=900, check=False)


def package(home: Path, version: str) -> str:
    built = sdv(None, home, "package", str(APP), "--name", "fleet-ansible", "--version", version,
                "--python", "3.11", "--platform", "x86_64", "--json")
    assert built.returncode == 0, built.stderr
    package_id: str = json.loads(built.stdout)["packageId"]
    return package_id


def versions(rig: Rig, home: Path) -> dict[str, Any]:
    """What `sdv-studio status` says of the app on each device: {device: (version, status)}, after
    checking that each running one's last health check found it running."""
    status = sdv(rig, home, "status", "fleet-ansible", "--device", "tag:bench", "--json")
    assert status.returncode == 0, status.stderr
    apps = {d["deviceId"]: d["apps"][0] for d in json.loads(status.stdout)["devices"]}
    for device, app in apps.items():
        assert app["status"] != "running" or app["health"]["app_running"] is True, (device, app)
    return {device: (app["version"], app["status"]) for device, app in apps.items()}


def workstation_token(home: Path) -> str:
    """A token for every signal, minted with the workstation's key as docs/security.md says to."""
    code = ("from sdv_studio.core.deploy.security.tokens import *; "
            "print(mint(workstation_key(), 'me', FULL_ACCESS))")
    minted = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env=dict(os.environ, SDV_STUDIO_HOME=str(home)), cwd=REPO)
    return minted.stdout.strip()


def broker_reads(device: Device, token: str) -> list[str]:
    """READS run with the workstation's kuksa-client inside the device's network."""
    done = subprocess.run(["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-c", READS, token],
                          capture_output=True, text=True, timeout=60, check=True, env=dict(os.environ))
    return done.stdout.splitlines()


def broker_service(device: Device) -> dict[str, Any]:
    """SDV Studio's databroker as the agent on the device reports it (status, pid)."""
    [service] = [s for s in agent_status(device, "fleet-ansible")["services"] if s["name"] == "databroker"]
    return service


def app_token(device: Device) -> str | None:
    """The KUKSA_TOKEN the app's process was started with."""
    [app] = agent_status(device, "fleet-ansible")["apps"]
    environ = device.run(f"cat /proc/{app['pid']}/environ").stdout.split("\0")
    return next((v.split("=", 1)[1] for v in environ if v.startswith("KUKSA_TOKEN=")), None)


def releases(device: Device) -> list[str]:
    """The app's releases installed on the device, asked of the agent there."""
    out = device.run(f"{AGENT} inventory '{json.dumps({'name': 'fleet-ansible'})}'", user=LOGIN_USER).stdout
    return sorted(r["version"] for app in json.loads(out)["apps"] for r in app["releases"])


@pytest.fixture
def fleet(rig: Rig, tmp_path: Path) -> Iterator[list[Device]]:
    """The six working devices, saved with the tag `bench`, nothing of SDV Studio's running on them
    (so SDV Studio's databroker is started by the playbook), and no marker file."""
    devices = rig.working()
    assert len(devices) == 6
    home = tmp_path / "home"
    for device in devices:
        device.stop_sdv_apps()
        device.run(f"rm -f {MARKER}", user=LOGIN_USER)
        added = sdv(None, home, "devices", "add", f"{rig.user}@{device.ip}", "--id", device.name,
                    "--identity", str(rig.key_path), "--tag", "bench")
        assert added.returncode == 0, added.stderr
    yield devices
    for device in devices:
        device.run(f"rm -f {MARKER}", user=LOGIN_USER)
        device.stop_sdv_apps()


def test_ansible_deploys_the_export_to_six_devices_and_stops_a_failing_wave(rig: Rig, fleet: list[Device],
                                                                           tmp_path: Path) -> None:
    home = tmp_path / "home"
    names = [d.name for d in fleet]
    # SDV Studio trusts the devices' host keys once; the export hands exactly those keys to ssh.
    first = sdv(rig, home, "status", "--device", "tag:bench", "--accept-new-host-keys", "--json")
    assert first.returncode == 0, first.stderr

    first_version = package(home, "1.0.0")
    export = tmp_path / "fleet-1"
    written = sdv(None, home, "export", "ansible", first_version, "--device", "tag:bench", "--output", str(export),
                  "--grace", "1", "--json")
    assert written.returncode == 0, written.stderr
    assert json.loads(written.stdout)["devices"] == names and json.loads(written.stdout)["serial"] == [6]
    known = (export / "known_hosts").read_text().splitlines()
    assert sorted(line.split()[0] for line in known) == sorted(d.ip for d in fleet)
    # The app's token is a secret: encrypted as the export's README says, the playbook still runs.
    credentials = export / "vars" / "credentials.yml"
    assert credentials.stat().st_mode & 0o777 == 0o600
    token = yaml.safe_load(credentials.read_text())["sdv_kuksa_token"]
    password = tmp_path / "vault-password"
    password.write_text("fleet secret\n")
    subprocess.run([ANSIBLE_VAULT, "encrypt", str(credentials), "--vault-password-file", str(password)],
                   capture_output=True, text=True, check=True, env=dict(os.environ, ANSIBLE_HOME=str(tmp_path)))
    assert credentials.read_text().startswith("$ANSIBLE_VAULT;")

    run = ansible_playbook(rig, export, tmp_path, "--vault-password-file", str(password))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "SDV Studio's databroker started on the device" in run.stdout  # KUKSA wiring: none ran there
    assert token not in run.stdout + run.stderr
    assert versions(rig, home) == {name: ("1.0.0", "running") for name in names}
    for device in fleet:
        assert broker_service(device)["status"] == "running", device.name
        assert app_token(device) == token, device.name
    # The databroker verifies tokens: none is refused, one the workstation's key signed reads.
    refused, read = broker_reads(fleet[-1], workstation_token(home))
    assert refused == "refused: unauthenticated" and read == "read: ['Vehicle.Speed']"

    # Version 1.0.1 in waves of 2 then the rest: it fails its health gate on d1 alone.
    brokers = [broker_service(device)["pid"] for device in fleet[:2]]
    fleet[0].run(f"touch {MARKER}", user=LOGIN_USER)
    second_version = package(home, "1.0.1")
    export = tmp_path / "fleet-2"
    written = sdv(None, home, "export", "ansible", second_version, "--device", "tag:bench", "--output", str(export),
                  "--waves", "2,100%", "--grace", "1")
    assert written.returncode == 0, written.stderr
    run = ansible_playbook(rig, export, tmp_path)
    assert run.returncode != 0
    assert "failing on purpose" in run.stdout  # the app's log tail, with the agent's reason
    recap = [line.split()[0] for line in run.stdout.split("PLAY RECAP", 1)[1].splitlines() if " : ok=" in line]
    assert recap == names[:2]  # Ansible stopped before the second batch
    # The databroker the first export started verifies the same key: recognised, not restarted.
    assert [broker_service(device)["pid"] for device in fleet[:2]] == brokers
    assert versions(rig, home) == {names[0]: ("1.0.0", "running"),  # rolled back: 1.0.0 kept running
                                   names[1]: ("1.0.1", "running"),
                                   **{name: ("1.0.0", "running") for name in names[2:]}}
    assert releases(fleet[0]) == ["1.0.0", "1.0.1"]  # installed, failed its gate, 1.0.0 kept
    for device in fleet[2:]:
        assert releases(device) == ["1.0.0"]  # never touched
