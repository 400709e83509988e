"""What the deployment issue must show, on the rig: a failed v2 keeps v1, the supervisor restarts
a killed app, a container carries the security profile, the playground app toggles its signal on
six devices, a hot swap leaves no gap, a cable pulled mid-transfer fails one device cleanly, and a
mixed-fleet package sends a device only the wheels for its Python (a container: its image's)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sdv_studio.core.deploy import DeployOptions
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import APPS, FAST, agent_status, broker_token, build, deploy
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

CRASHING = """\
import sys


def main() -> None:
    sys.exit("v2 cannot start: missing calibration file")


if __name__ == "__main__":
    main()
"""
COUNTER = """\
import asyncio
import os

from kuksa_client.grpc import Datapoint
from kuksa_client.grpc.aio import VSSClient

RELEASE = "{release}"


async def main() -> None:
    host, _, port = os.environ["KUKSA_ENDPOINT"].rpartition(":")
    count = 0
    async with VSSClient(host, int(port)) as client:
        while True:
            count += 1
            await client.set_current_values({{"Vehicle.Speed": Datapoint(float(count % 200))}})
            await asyncio.sleep(0.1)


if __name__ == "__main__":
    asyncio.run(main())
"""


@pytest.fixture
def records(tmp_path: Path) -> DeploymentRecords:
    return DeploymentRecords(tmp_path / "records")


def running(device: Device, name: str) -> dict:
    [app] = agent_status(device, name)["apps"]
    return app


def on_device_python(device: Device, code: str, timeout: float = 30) -> str:
    """Run Python with the workstation's kuksa-client inside the device's network, where the
    fallback databroker listens on 127.0.0.1 (and takes the token in $KUKSA_TOKEN)."""
    done = subprocess.run(["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=timeout, check=True,
                          env={**os.environ, "KUKSA_TOKEN": broker_token()})
    return done.stdout


def test_a_v2_that_crashes_on_start_is_refused_and_v1_keeps_running(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = rig["d4"]
    v1 = build(tmp_path, APPS / "light_counter.py", "guarded", "1.0.0")
    v2 = build(tmp_path, CRASHING, "guarded", "2.0.0")
    first, _ = deploy(rig, [device], v1, trust, records)
    assert first.status == "completed"
    pid = running(device, "guarded")["pid"]

    # Stop-start, so v1 is stopped before v2 fails and must be brought back (hot swap never stops it).
    second, _ = deploy(rig, [device], v2, trust, records, replace(FAST, hot_swap=False))
    row = second.device("d4")
    assert second.status == "failed" and row.status == "error"
    assert row.rolled_back and "rolled back to" in row.message
    assert any("missing calibration file" in line for line in row.logs), row.logs
    app = running(device, "guarded")
    assert (app["version"], app["status"]) == ("1.0.0", "running")
    assert device.run(f"kill -0 {app['pid']}", check=False).returncode == 0
    assert app["pid"] != pid  # v1 came back


def test_an_app_killed_on_the_device_is_restarted_by_the_supervisor(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, light_package: PackageFile, tmp_path: Path
) -> None:
    device = rig["d5"]
    phoenix = build(tmp_path, APPS / "light_counter.py", "phoenix")
    result, _ = deploy(rig, [device], phoenix, trust, records)
    assert result.status == "completed"
    before = running(device, "phoenix")
    device.run(f"kill -9 {before['pid']}")
    deadline = time.monotonic() + 20
    after = before
    while time.monotonic() < deadline:
        after = running(device, "phoenix")
        if after["restarts"] >= 1 and after["status"] == "running":
            break
        time.sleep(0.3)
    assert after["restarts"] >= 1 and after["status"] == "running", after
    assert after["pid"] != before["pid"]


def test_a_container_runs_with_the_packages_limits_and_security_options(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = rig["d2"]
    boxed = build(tmp_path, APPS / "light_counter.py", "boxed", runtime="docker", memory="256MB", cpu="0.5")
    result, _ = deploy(rig, [device], boxed, trust, records)
    assert result.status == "completed", result.device("d2").message
    assert result.device("d2").runtime == "docker"
    ids = device.run("docker ps -q --filter label=io.sdv-studio.app=boxed").stdout.split()
    assert len(ids) == 1
    [inspect] = json.loads(device.run(f"docker inspect {ids[0]}").stdout)
    host, config = inspect["HostConfig"], inspect["Config"]
    assert host["Memory"] == 256 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert "no-new-privileges" in " ".join(host["SecurityOpt"])
    assert host["ReadonlyRootfs"] is True
    assert "/tmp" in host["Tmpfs"]
    assert host["NetworkMode"] == "host"
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert config["User"] == "1000:1000"
    assert config["Labels"]["io.sdv-studio.version"] == "1.0.0"
    assert inspect["State"]["Running"] is True


@pytest.mark.slow
def test_playground_app_on_six_devices_toggles_the_low_beam_on_each_broker(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    playground = build(tmp_path, APPS / "playground_default.py", "playground")
    devices = rig.working()
    result, _ = deploy(rig, devices, playground, trust, records, DeployOptions(grace_seconds=2.0))
    assert result.status == "completed", [(d.device_id, d.message, d.logs[-5:]) for d in result.devices]
    sample = (
        "import os, time\n"
        "from kuksa_client.grpc import VSSClient\n"
        "seen = set()\n"
        "with VSSClient('127.0.0.1', 55555, token=os.environ['KUKSA_TOKEN']) as c:\n"
        "    deadline = time.monotonic() + 8\n"
        "    while time.monotonic() < deadline and len(seen) < 2:\n"
        "        dp = c.get_target_values(['Vehicle.Body.Lights.Beam.Low.IsOn'])['Vehicle.Body.Lights.Beam.Low.IsOn']\n"
        "        if dp is not None:\n"
        "            seen.add(dp.value)\n"
        "        time.sleep(0.2)\n"
        "print(sorted(seen))\n"
    )
    for device in devices:
        assert running(device, "playground")["status"] == "running"
        assert on_device_python(device, sample).strip() == "[False, True]", device.name


@pytest.mark.slow
def test_hot_swap_of_a_publishing_app_leaves_no_gap_over_300_ms(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = rig["d6"]
    v1 = build(tmp_path, COUNTER.format(release="1"), "counter", "1.0.0")
    v2 = build(tmp_path, COUNTER.format(release="2"), "counter", "1.0.1")
    first, _ = deploy(rig, [device], v1, trust, records)
    assert first.status == "completed", first.device("d6").message
    stamps = tmp_path / "stamps.txt"
    subscriber = (
        "import os, time\n"
        "from kuksa_client.grpc import VSSClient\n"
        f"out = open({str(stamps)!r}, 'w', buffering=1)\n"
        "with VSSClient('127.0.0.1', 55555, token=os.environ['KUKSA_TOKEN']) as c:\n"
        "    for update in c.subscribe_current_values(['Vehicle.Speed']):\n"
        "        out.write(f'{time.monotonic()}\\n')\n"
    )
    listener = subprocess.Popen(["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-c", subscriber],
                                env={**os.environ, "KUKSA_TOKEN": broker_token()})
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(stamps.read_text().split() if stamps.exists() else []) < 10:
            time.sleep(0.1)
        swap, _ = deploy(rig, [device], v2, trust, records, DeployOptions(hot_swap=True, grace_seconds=1.0))
        assert swap.status == "completed", swap.device("d6").message
        time.sleep(1.5)  # updates from v2 alone, after v1 stopped
    finally:
        listener.terminate()
        listener.wait(timeout=10)
    times = [float(t) for t in stamps.read_text().split()]
    assert len(times) > 30
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 0.3, f"longest gap {max(gaps):.3f}s"
    assert running(device, "counter")["version"] == "1.0.1"


@pytest.mark.slow
def test_a_cable_pulled_mid_transfer_fails_that_device_cleanly_and_a_retry_completes(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    cut, other = rig["d1"], rig["d3"]
    package = build(tmp_path, APPS / "kuksa_app.py", "cutover")
    uploads = cut.home / ".local/share/sdv-studio/uploads" / package.package_id
    pulled = threading.Event()

    def pull_when_wheels_arrive() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if uploads.exists() and any(uploads.rglob("*.whl")):
                cut.link(False)
                pulled.set()
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=pull_when_wheels_arrive, daemon=True)
    watcher.start()
    options = DeployOptions(grace_seconds=1.0, connect_timeout=5.0, stall_timeout=4.0)
    try:
        result, _ = deploy(rig, [cut, other], package, trust, records, options)
    finally:
        watcher.join(timeout=60)
        cut.link(True)
    assert pulled.is_set(), "the transfer finished before the cable could be pulled"
    assert result.device("d3").status == "success"
    row = result.device("d1")
    assert row.status == "error" and row.progress == 30, (row.status, row.progress, row.message)
    assert "transfer stopped" in row.message or "cannot connect" in row.message, row.message
    retry, _ = deploy(rig, [cut], package, trust, records, options)
    assert retry.status == "completed", retry.device("d1").message
    assert running(cut, "cutover")["status"] == "running"


def test_a_mixed_fleet_package_sends_a_device_only_its_own_wheels(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    """Built for Python 3.9 and the rig's own Python: the device is sent, and holds, only its set."""
    device = rig["d2"]
    here = device.run("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'").stdout.strip()
    other = "3.9" if here != "3.9" else "3.10"
    package = build(tmp_path, APPS / "kuksa_app.py", "fleet", python_versions=[other, here])
    result, _ = deploy(rig, [device], package, trust, records)
    assert result.status == "completed", result.device("d2").message
    record = package.wheel_sets[f"{here}-{device.run('uname -m').stdout.strip()}"]
    releases = device.home / ".local/share/sdv-studio/apps/fleet/releases"
    [release] = list(releases.iterdir())
    held = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file() and "venv" not in p.parts}
    own = {*record["wheels"], record["requirements"]}
    assert {n for n in held if n.startswith(("wheels/", "requirements/"))} == own
    assert not any(f"cp{other.replace('.', '')}" in n for n in held)
    assert running(device, "fleet")["status"] == "running"


@pytest.mark.slow
def test_a_mixed_fleet_container_installs_the_wheels_for_its_images_python(
    rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = rig["d2"]
    package = build(tmp_path, APPS / "kuksa_app.py", "boxedfleet", runtime="docker", python_versions=["3.9", "3.11"])
    result, _ = deploy(rig, [device], package, trust, records)
    assert result.status == "completed", result.device("d2").message
    ids = device.run("docker ps -q --filter label=io.sdv-studio.app=boxedfleet").stdout.split()
    frozen = device.run(f"docker exec {ids[0]} /opt/sdv-venv/bin/python -m pip freeze").stdout.split()
    assert "kuksa-client==0.6.0" in {p.lower().replace("_", "-") for p in frozen}  # the image is python:3.11-slim
