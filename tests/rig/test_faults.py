"""Faults on the rig: each scenario breaks a deployment its own way, then checks what the device
really does (the agent's status, the processes it runs): the previous or the new version running, a
deployment record saying so, nothing half-installed, no deployment holding the device, and the next
deployment succeeding.

Each scenario has a device of its own. The databroker is given (nothing listens there; these apps
never call it), so no fallback broker blurs the timings of the faults.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy import DeployOptions
from sdv_studio.core.deploy.events import DeploymentEvent, DeviceProgress
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.device_wheels.zeroconf_wheels import zeroconf_wheels
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment
from tests.core.deploy.conftest import agent_status, build
from tests.rig import faults
from tests.rig.devices import CRONTABS, LOGIN_UID, DeviceSpec
from tests.rig.plugin import rig_unavailable_reason
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

BROKER = "127.0.0.1:55555"
OPTIONS = DeployOptions(grace_seconds=1.0, broker=BROKER, connect_timeout=5.0, stall_timeout=4.0, hot_swap=False)
SPECS = [DeviceSpec(f"f{i}", f"198.18.0.{40 + i}", home_size="96m" if i == 3 else None) for i in range(1, 9)]
SETTLE = 60.0  # seconds a device may take to finish alone what a lost workstation left it doing


@pytest.fixture(scope="module")
def fault_rig() -> Iterator[Rig]:
    reason = rig_unavailable_reason()
    if reason:
        pytest.skip(reason)
    zeroconf_wheels("3.11", "x86_64")  # the devices' mDNS advertiser: fetched before entering the LAN
    built = Rig.build(SPECS)
    try:
        yield built
    finally:
        built.teardown()


@pytest.fixture
def trust(tmp_path: Path) -> HostKeyTrust:
    return HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)


@pytest.fixture
def records(tmp_path: Path) -> DeploymentRecords:
    return DeploymentRecords(tmp_path / "records")


def deploy(rig: Rig, device: Device, package: PackageFile, trust: HostKeyTrust, records: DeploymentRecords,
           options: DeployOptions = OPTIONS, on_event: Callable[[DeploymentEvent], None] | None = None) -> Deployment:
    return faults.deploy(rig, device, package, trust, records, options, on_event)


def app(device: Device, name: str) -> dict[str, Any]:
    [state] = agent_status(device, name)["apps"]
    return state


def assert_settled(device: Device, name: str, version: str) -> None:
    """The device finished (no deployment holds it), runs ``version`` of ``name`` and nothing
    else of it, and holds nothing half-installed."""
    faults.wait_until(lambda: faults.deployment_lock_free(device), SETTLE, f"{device.name}: the deployment lock freed")
    faults.wait_until(lambda: app(device, name)["status"] == "running", 20, f"{name} running on {device.name}")
    state = app(device, name)
    assert state["version"] == version, state
    assert faults.running_versions(device, name) == [version]
    assert faults.leftovers(device) == []


def assert_next_deploy_succeeds(rig: Rig, device: Device, name: str, trust: HostKeyTrust,
                                records: DeploymentRecords, tmp: Path) -> None:
    package = build(tmp, faults.COUNTER, name, "9.0.0")
    result = deploy(rig, device, package, trust, records)
    assert result.status == "completed", result.devices[0].message
    assert_settled(device, name, "9.0.0")


def first_deploy(rig: Rig, device: Device, name: str, trust: HostKeyTrust, records: DeploymentRecords,
                 tmp: Path) -> None:
    result = deploy(rig, device, build(tmp, faults.COUNTER, name, "1.0.0"), trust, records)
    assert result.status == "completed", result.devices[0].message
    assert_settled(device, name, "1.0.0")


# -- 1. the link cut mid-transfer -------------------------------------------------------------------
def test_a_link_cut_mid_transfer_fails_cleanly_and_v1_keeps_running(
    fault_rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = fault_rig["f1"]
    first_deploy(fault_rig, device, "cut", trust, records, tmp_path)
    bulky = build(tmp_path, faults.bulky_source(2_000_000, seed=1), "cut", "2.0.0")
    cut: list[float] = []

    def pull_the_cable(event: DeploymentEvent) -> None:
        if isinstance(event, DeviceProgress) and event.stage == "transfer" and not cut:
            cut.append(time.monotonic())
            asyncio.get_running_loop().call_later(0.5, device.link, False)

    device.throttle("4mbit")  # 2 MB take 4 s: the cable goes half a second in
    try:
        result = deploy(fault_rig, device, bulky, trust, records, on_event=pull_the_cable)
    finally:
        device.link(True)
        device.throttle(None)
    row = result.devices[0]
    assert (result.status, row.status, row.stage) == ("failed", "error", "transfer"), row.message
    assert "transfer stopped" in row.message, row.message
    assert_settled(device, "cut", "1.0.0")
    assert_next_deploy_succeeds(fault_rig, device, "cut", trust, records, tmp_path)


# -- 2. sshd killed mid-install ----------------------------------------------------------------------
def test_sshd_killed_mid_install_the_device_finishes_and_the_record_says_so(
    fault_rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = fault_rig["f2"]
    first_deploy(fault_rig, device, "sshd", trust, records, tmp_path)
    v2 = faults.heavy(tmp_path, "sshd", "2.0.0")
    killed = faults.when(lambda: faults.mid_install(device, "sshd"), device.kill_ssh_sessions)
    result = deploy(fault_rig, device, v2, trust, records)
    assert killed.is_set(), "the install ended before sshd could be killed"
    row = result.devices[0]
    # The agent went on alone: installed, started and gated 2.0.0; asked afterwards, it said so.
    assert (result.status, row.status) == ("completed", "success"), row.message
    assert "connection was lost" in row.message and "the device finished" in row.message, row.message
    assert_settled(device, "sshd", "2.0.0")
    assert_next_deploy_succeeds(fault_rig, device, "sshd", trust, records, tmp_path)


# -- 3. the disk full during the install ---------------------------------------------------------------
def test_a_full_disk_during_install_fails_cleanly_and_v1_keeps_running(
    fault_rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = fault_rig["f3"]  # a 96 MB home
    first_deploy(fault_rig, device, "full", trust, records, tmp_path)
    v2 = faults.heavy(tmp_path, "full", "2.0.0")
    sent = sum(len(data) for data in v2.entries.values())
    free = int(device.run(f"df -B1 --output=avail {faults.AGENT_HOME} | tail -1").stdout)
    room = sent + (2 << 20)  # the upload fits; the venv (some 30 MB) does not
    assert free > room, f"the home is too small for the test: {free} bytes free"
    device.run(f"head -c {free - room} /dev/zero > ~/filler", user="sdv")
    try:
        result = deploy(fault_rig, device, v2, trust, records)
        row = result.devices[0]
        assert (row.status, row.stage) == ("error", "install"), row.message
        assert "No space left on device" in row.message and "internal error" not in row.message, row.message
        assert_settled(device, "full", "1.0.0")
        assert faults.supervisor_running(device)
    finally:
        device.run("rm -f ~/filler", user="sdv")
    result = deploy(fault_rig, device, v2, trust, records)
    assert result.status == "completed", result.devices[0].message
    assert_settled(device, "full", "2.0.0")


# -- 4. the app crashes on start ------------------------------------------------------------------------
def test_an_app_that_crashes_on_start_is_rolled_back(
    fault_rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = fault_rig["f4"]
    first_deploy(fault_rig, device, "crash", trust, records, tmp_path)
    result = deploy(fault_rig, device, build(tmp_path, faults.CRASHING, "crash", "2.0.0"), trust, records)
    row = result.devices[0]
    assert (result.status, row.status, row.rolled_back) == ("failed", "error", True), row.message
    assert "rolled back to 1.0.0" in row.message, row.message
    assert any("missing calibration file" in line for line in row.logs), row.logs
    assert_settled(device, "crash", "1.0.0")
    assert_next_deploy_succeeds(fault_rig, device, "crash", trust, records, tmp_path)


# -- 5. the app crashes after 10 s ------------------------------------------------------------------------
def test_an_app_that_crashes_after_its_gate_is_restarted_by_the_supervisor(
    fault_rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    device = fault_rig["f5"]
    first_deploy(fault_rig, device, "late", trust, records, tmp_path)
    result = deploy(fault_rig, device, build(tmp_path, faults.LATE_CRASH, "late", "2.0.0"), trust, records)
    assert result.status == "completed", result.devices[0].message  # it passed its gate, then crashed
    crashed = faults.wait_until(lambda: (s := app(device, "late"))["restarts"] >= 1 and s, 45,
                                "the supervisor restarting 2.0.0 after its crash")
    assert isinstance(crashed, dict)
    assert crashed["version"] == "2.0.0" and crashed["lastExit"]["code"] == 3, crashed
    assert faults.running_versions(device, "late") in ([], ["2.0.0"])  # between restarts, or running again
    assert faults.leftovers(device) == []
    assert_next_deploy_succeeds(fault_rig, device, "late", trust, records, tmp_path)


# -- 6. two workstations deploy different versions at once ----------------------------------------------------
def test_two_workstations_at_once_take_turns_on_the_device(fault_rig: Rig, tmp_path: Path) -> None:
    device = fault_rig["f6"]
    first = build(tmp_path, faults.COUNTER, "shared", "2.0.0")
    second = build(tmp_path, faults.COUNTER, "shared", "3.0.0")
    common = [*faults.device_args(fault_rig, device), "--broker", BROKER, "--json"]
    # The first holds the device for its 8 s health gate at least; the second starts meanwhile.
    one = faults.cli(fault_rig, tmp_path / "ws-one", "deploy", str(first.path), *common, "--grace", "8")
    assert one.stderr is not None
    for line in one.stderr:
        if "Installing" in line:
            break
    two = faults.cli(fault_rig, tmp_path / "ws-two", "deploy", str(second.path), *common, "--grace", "1")
    (out_one, err_one), (out_two, err_two) = one.communicate(timeout=180), two.communicate(timeout=180)
    done_one, done_two = json.loads(out_one), json.loads(out_two)
    assert (done_one["status"], done_two["status"]) == ("completed", "completed"), (err_one, err_two)
    assert f"the device is busy: {done_one['deploymentId']}" in err_two, err_two  # told whom it waited for
    assert "waiting" in err_two
    assert done_two["endTime"] >= done_one["endTime"]
    assert_settled(device, "shared", "3.0.0")  # the one that finished last


# -- 7. the workstation killed mid-deploy --------------------------------------------------------------------
def test_a_workstation_killed_mid_deploy_leaves_an_interrupted_record_and_a_finished_device(
    fault_rig: Rig, tmp_path: Path
) -> None:
    device = fault_rig["f7"]
    home = tmp_path / "ws"
    common = [*faults.device_args(fault_rig, device), "--broker", BROKER, "--grace", "1", "--json"]
    v1, v2 = build(tmp_path, faults.COUNTER, "killed", "1.0.0"), faults.heavy(tmp_path, "killed", "2.0.0")
    assert faults.cli(fault_rig, home, "deploy", str(v1.path), *common).wait(timeout=120) == 0
    workstation = faults.cli(fault_rig, home, "deploy", str(v2.path), *common)
    killed = faults.when(lambda: faults.mid_install(device, "killed"), workstation.kill)
    workstation.wait(timeout=180)
    assert killed.is_set(), "the install ended before the workstation could be killed"

    # The next start of the program finds the record interrupted, saying what the device may run.
    listing = faults.cli(fault_rig, home, "deployments", "--json").communicate(timeout=60)[0]
    [record] = [d for d in json.loads(listing)["deployments"] if d["appVersion"] == "2.0.0"]
    [row] = record["devices"]
    assert (record["status"], row["status"], row["stage"]) == ("interrupted", "error", "install"), record
    assert "the device runs 2.0.0 if it got that far" in row["message"], row["message"]
    # The agent finished alone: 2.0.0 passed its gate. sdv-studio status says so.
    assert_settled(device, "killed", "2.0.0")
    status = faults.cli(fault_rig, home, "status", *faults.device_args(fault_rig, device), "--json")
    [apps] = json.loads(status.communicate(timeout=60)[0])["devices"]
    assert [(a["name"], a["version"], a["status"]) for a in apps["apps"]] == [("killed", "2.0.0", "running")]
    again = faults.cli(fault_rig, home, "deploy", str(v1.path), *common)
    assert again.wait(timeout=120) == 0, again.communicate()[1]
    assert_settled(device, "killed", "1.0.0")


# -- 8. the device rebooted ------------------------------------------------------------------------------------
def test_after_a_reboot_the_boot_hook_brings_the_supervisor_and_the_app_back(
    fault_rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    if not CRONTABS.is_dir():
        pytest.skip("the reboot scenario needs cron's crontab program (./dev.sh test installs it)")
    device = fault_rig["f8"]
    result = deploy(fault_rig, device, build(tmp_path, faults.COUNTER, "boot", "1.0.0"), trust, records)
    row = result.devices[0]
    assert result.status == "completed" and "back after a reboot: crontab @reboot entry" in row.message, row.message
    before = app(device, "boot")

    device.power_cut()
    assert device.processes(LOGIN_UID) == [] and not faults.supervisor_running(device)
    faults.boot(device)  # cron's @reboot, as this rig runs no cron
    assert faults.supervisor_running(device)
    faults.wait_until(lambda: faults.running_versions(device, "boot") == ["1.0.0"], 20, "the app back after boot")
    after = app(device, "boot")
    assert after["status"] == "running" and after["pid"] != before["pid"], after
    assert_settled(device, "boot", "1.0.0")
    assert_next_deploy_succeeds(fault_rig, device, "boot", trust, records, tmp_path)


def test_the_boot_entry_is_written_once_however_often_the_device_is_deployed_to(
    fault_rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, tmp_path: Path
) -> None:
    if not CRONTABS.is_dir():
        pytest.skip("needs cron's crontab program (./dev.sh test installs it)")
    device = fault_rig["f8"]
    device.run("(echo '# mine'; echo '0 3 * * * true') | crontab -", user="sdv")
    for version in ("1.0.1", "1.0.2"):
        assert deploy(fault_rig, device, build(tmp_path, faults.COUNTER, "boot", version), trust, records,
                      replace(OPTIONS, hot_swap=True)).status == "completed"
    table = device.run("crontab -l", user="sdv").stdout.splitlines()
    assert table[:2] == ["# mine", "0 3 * * * true"]  # the user's own entries stay, first
    assert sum(line.startswith("@reboot ") for line in table) == 1, table
