"""Faults on the rig: per scenario, the time from the fault until the device has recovered, and what
ran on it meanwhile, beside the figure it is to be read against.

The scenarios are tests/rig/test_faults.py's (that suite asserts the outcomes; this measures them):

1. the link cut 0.5 s into a 2 MB transfer (the link throttled to 4 Mbit/s);
2. sshd killed mid-install (an app with grpcio to install);
3. the disk full during that install (a 96 MB tmpfs home, filled to leave room for the upload only);
4. a new version that crashes on start (stop-start: the previous one must come back);
5. a new version that crashes 10 s after start, past its health gate (the supervisor restarts it);
6. two workstations deploying different versions at once (the second waits for the device);
7. the workstation (the CLI) killed mid-install;
8. a reboot: every process of the device's user killed, then the crontab @reboot entry run.

"Recovered" is when the device is settled: no deployment holds it, the app runs the version it
should, nothing is half-installed, and the workstation has its answer (1-4, 6). What ran meanwhile
is sampled every 50 ms from the device's processes (their APP_VERSION), from the fault to recovery.
The references are undisturbed deployments of the same packages to a spare device, and the
timeouts and back-offs the recovery waits on.

Run as root (PyPI is reached only before the rig exists, to build the packages):
    .venv/bin/python bench/faults.py
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sdv_studio.agent.sdvagent.supervisor import BACKOFF_FIRST  # noqa: E402
from sdv_studio.core.deploy import DeployOptions  # noqa: E402
from sdv_studio.core.deploy.events import DeploymentEvent, DeviceProgress  # noqa: E402
from sdv_studio.core.deploy.package_file import PackageFile  # noqa: E402
from sdv_studio.core.deploy.records import DeploymentRecords  # noqa: E402
from sdv_studio.core.deploy.runtimes.native import LOCK_POLL  # noqa: E402
from sdv_studio.core.device_wheels.zeroconf_wheels import zeroconf_wheels  # noqa: E402
from sdv_studio.core.ssh.known_hosts import KnownHosts  # noqa: E402
from sdv_studio.core.ssh.trust import HostKeyTrust  # noqa: E402
from sdv_studio.models.deployment import Deployment  # noqa: E402
from tests.core.deploy.conftest import agent_status, build  # noqa: E402
from tests.locations import WHEEL_CACHE  # noqa: E402
from tests.rig import faults  # noqa: E402
from tests.rig.devices import DeviceSpec  # noqa: E402
from tests.rig.rig import Device, Rig  # noqa: E402

BROKER = "127.0.0.1:55555"  # given, so no fallback broker is installed: the faults are what is timed
OPTIONS = DeployOptions(grace_seconds=1.0, broker=BROKER, connect_timeout=5.0, stall_timeout=4.0, hot_swap=False)
SPECS = [DeviceSpec(f"f{i}", f"198.18.0.{40 + i}", home_size="96m" if i == 3 else None) for i in range(1, 10)]
SETTLE = 90.0


@dataclass
class Outcome:
    scenario: str
    recovered: float  # seconds from the fault until the device was settled
    reference: str
    meanwhile: str
    result: str


@dataclass
class Bench:
    rig: Rig
    work: Path
    trust: HostKeyTrust
    records: DeploymentRecords
    light_first: float = 0.0  # references, from the spare device
    light_update: float = 0.0
    heavy_update: float = 0.0

    def deploy(self, device: Device, package: PackageFile, options: DeployOptions = OPTIONS,
               on_event: Callable[[DeploymentEvent], None] | None = None) -> Deployment:
        return faults.deploy(self.rig, device, package, self.trust, self.records, options, on_event)

    def counter(self, name: str, version: str, source: str = faults.COUNTER) -> PackageFile:
        return build(self.work, source, name, version)

    def timed(self, device: Device, package: PackageFile) -> float:
        started = time.monotonic()
        result = self.deploy(device, package)
        assert result.status == "completed", result.devices[0].message
        return time.monotonic() - started

    def settled(self, device: Device, name: str, version: str) -> float:
        """The moment the device is settled on ``version`` (see the module's docstring)."""
        faults.wait_until(lambda: faults.deployment_lock_free(device), SETTLE, f"{device.name} free", every=0.05)
        faults.wait_until(lambda: faults.running_versions(device, name) == [version], SETTLE,
                          f"{name} {version} on {device.name}", every=0.05)
        at = time.monotonic()
        left = faults.leftovers(device)
        assert not left, f"{device.name} left {left}"
        return at


def references(b: Bench) -> None:
    spare = b.rig["f9"]
    b.light_first = b.timed(spare, b.counter("spare", "1.0.0"))
    b.light_update = b.timed(spare, b.counter("spare", "2.0.0"))
    b.heavy_update = b.timed(spare, faults.heavy(b.work, "spare", "3.0.0"))


def link_cut(b: Bench) -> Outcome:
    device = b.rig["f1"]
    b.deploy(device, b.counter("cut", "1.0.0"))
    bulky = build(b.work, faults.bulky_source(2_000_000, seed=1), "cut", "2.0.0")
    cut: list[float] = []

    def pull(event: DeploymentEvent) -> None:
        if isinstance(event, DeviceProgress) and event.stage == "transfer" and not cut:
            def unplug() -> None:
                cut.append(time.monotonic())
                device.link(False)
            asyncio.get_running_loop().call_later(0.5, unplug)

    device.throttle("4mbit")
    with faults.Timeline(device, "cut") as seen:
        try:
            result = b.deploy(device, bulky, on_event=pull)
        finally:
            device.link(True)
            device.throttle(None)
        done = b.settled(device, "cut", "1.0.0")
    return Outcome("1 link cut mid-transfer", done - cut[0], f"stall timeout {OPTIONS.stall_timeout:g} s",
                   seen.summary(cut[0], done), f"{result.status}: {result.devices[0].message}")


def sshd_killed(b: Bench) -> Outcome:
    device = b.rig["f2"]
    b.deploy(device, b.counter("sshd", "1.0.0"))
    killed: list[float] = []

    def kill() -> None:
        killed.append(time.monotonic())
        device.kill_ssh_sessions()

    with faults.Timeline(device, "sshd") as seen:
        faults.when(lambda: faults.mid_install(device, "sshd"), kill)
        result = b.deploy(device, faults.heavy(b.work, "sshd", "2.0.0"))
        done = max(b.settled(device, "sshd", "2.0.0"), time.monotonic())
    return Outcome("2 sshd killed mid-install", done - killed[0], f"undisturbed deploy {b.heavy_update:.1f} s",
                   seen.summary(killed[0], done), f"{result.status}: {result.devices[0].message}")


def disk_full(b: Bench) -> Outcome:
    device = b.rig["f3"]
    b.deploy(device, b.counter("full", "1.0.0"))
    v2 = faults.heavy(b.work, "full", "2.0.0")
    free = int(device.run(f"df -B1 --output=avail {faults.AGENT_HOME} | tail -1").stdout)
    device.run(f"head -c {free - sum(len(d) for d in v2.entries.values()) - (2 << 20)} /dev/zero > ~/filler",
               user="sdv")
    try:
        with faults.Timeline(device, "full") as seen:
            started = time.monotonic()  # the fault is there from the start: recovery counts from the deploy
            result = b.deploy(device, v2)
            done = max(b.settled(device, "full", "1.0.0"), time.monotonic())
    finally:
        device.run("rm -f ~/filler", user="sdv")
    return Outcome("3 disk full during install", done - started, f"undisturbed deploy {b.heavy_update:.1f} s",
                   seen.summary(started, done), f"{result.status}: {result.devices[0].message}")


def crash_on_start(b: Bench) -> Outcome:
    device = b.rig["f4"]
    b.deploy(device, b.counter("crash", "1.0.0"))
    with faults.Timeline(device, "crash") as seen:
        started = time.monotonic()
        result = b.deploy(device, b.counter("crash", "2.0.0", faults.CRASHING))
        done = max(b.settled(device, "crash", "1.0.0"), time.monotonic())
    return Outcome("4 app crashes on start", done - started, f"undisturbed update {b.light_update:.1f} s",
                   seen.summary(started, done), f"{result.status}: {result.devices[0].message}")


def late_crash(b: Bench) -> Outcome:
    device = b.rig["f5"]
    b.deploy(device, b.counter("late", "1.0.0"))
    with faults.Timeline(device, "late") as seen:
        result = b.deploy(device, b.counter("late", "2.0.0", faults.LATE_CRASH))
        faults.wait_until(lambda: not faults.running_versions(device, "late"), 30, "the crash", every=0.02)
        crashed = time.monotonic()
        faults.wait_until(lambda: faults.running_versions(device, "late") == ["2.0.0"], 30, "the restart",
                          every=0.02)
        done = time.monotonic()
    [state] = agent_status(device, "late")["apps"]
    return Outcome("5 app crashes 10 s after start", done - crashed, f"first back-off {BACKOFF_FIRST:g} s",
                   seen.summary(crashed, done), f"{result.status}; restarts {state['restarts']}, "
                   f"last exit {state['lastExit']['code']}")


def two_workstations(b: Bench) -> Outcome:
    device = b.rig["f6"]
    first, second = b.counter("shared", "2.0.0"), b.counter("shared", "3.0.0")
    common = [*faults.device_args(b.rig, device), "--broker", BROKER, "--json"]
    with faults.Timeline(device, "shared") as seen:
        one = faults.cli(b.rig, b.work / "ws-one", "deploy", str(first.path), *common, "--grace", "8")
        assert one.stderr is not None
        for line in one.stderr:
            if "Installing" in line:
                break
        started = time.monotonic()
        two = faults.cli(b.rig, b.work / "ws-two", "deploy", str(second.path), *common, "--grace", "1")
        first_done = json.loads(one.communicate(timeout=180)[0])
        first_at = time.monotonic()
        second_done = json.loads(two.communicate(timeout=180)[0])
        done = max(b.settled(device, "shared", "3.0.0"), time.monotonic())
    return Outcome("6 two workstations at once", done - started,
                   f"first one ends {first_at - started:.1f} s in, then an update {b.light_update:.1f} s",
                   seen.summary(started, done), f"{first_done['status']} then {second_done['status']} (waited)")


def workstation_killed(b: Bench) -> Outcome:
    device = b.rig["f7"]
    home = b.work / "ws-killed"
    common = [*faults.device_args(b.rig, device), "--broker", BROKER, "--grace", "1", "--json"]
    assert faults.cli(b.rig, home, "deploy", str(b.counter("killed", "1.0.0").path), *common).wait(timeout=120) == 0
    killed: list[float] = []
    with faults.Timeline(device, "killed") as seen:
        workstation = faults.cli(b.rig, home, "deploy", str(faults.heavy(b.work, "killed", "2.0.0").path), *common)

        def kill() -> None:
            killed.append(time.monotonic())
            workstation.kill()

        faults.when(lambda: faults.mid_install(device, "killed"), kill)
        workstation.wait(timeout=180)
        done = b.settled(device, "killed", "2.0.0")
    listing = faults.cli(b.rig, home, "deployments", "--json").communicate(timeout=60)[0]
    [record] = [d for d in json.loads(listing)["deployments"] if d["appVersion"] == "2.0.0"]
    return Outcome("7 workstation killed mid-install", done - killed[0], f"undisturbed deploy {b.heavy_update:.1f} s",
                   seen.summary(killed[0], done), f"record {record['status']} at {record['devices'][0]['stage']}")


def reboot(b: Bench) -> Outcome:
    device = b.rig["f8"]
    b.deploy(device, b.counter("boot", "1.0.0"))
    with faults.Timeline(device, "boot") as seen:
        cut = time.monotonic()
        device.power_cut()
        booted = time.monotonic()
        faults.boot(device)
        done = b.settled(device, "boot", "1.0.0")
    [state] = agent_status(device, "boot")["apps"]
    return Outcome("8 reboot (then the @reboot entry)", done - booted, f"first deploy {b.light_first:.1f} s",
                   seen.summary(cut, done), f"{state['status']} {state['version']}, restarts {state['restarts']}")


SCENARIOS = [link_cut, sshd_killed, disk_full, crash_on_start, late_crash, two_workstations, workstation_killed,
             reboot]


def report(outcomes: list[Outcome]) -> None:
    print(f"\n== recovery per fault (lock poll {LOCK_POLL:g} s, grace {OPTIONS.grace_seconds:g} s) ==")
    print(f"{'scenario':<36}{'recovered in':>13}  {'reference':<52}what ran meanwhile (from the fault)")
    for o in outcomes:
        print(f"{o.scenario:<36}{o.recovered:>11.2f} s  {o.reference:<52}{o.meanwhile}")
    print("\n== how each ended ==")
    for o in outcomes:
        print(f"{o.scenario:<36}{o.result}")


def main() -> int:
    if os.geteuid() != 0:
        print("run as root: the rig is made of network namespaces", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sdv-bench-faults-") as tmp:
        work = Path(tmp)
        os.environ["SDV_STUDIO_HOME"] = str(work / "home")
        os.environ.setdefault("SDV_STUDIO_WHEEL_CACHE", str(WHEEL_CACHE))
        # Everything that needs PyPI happens before the rig exists (its LAN has no route out).
        faults.heavy(work, "warm", "1.0.0")
        zeroconf_wheels("3.11", "x86_64")
        rig = Rig.build(SPECS)
        try:
            b = Bench(rig, work, HostKeyTrust(KnownHosts(work / "known_hosts"), accept_new=True),
                      DeploymentRecords(work / "records"))
            references(b)
            outcomes = []
            for scenario in SCENARIOS:
                outcomes.append(scenario(b))
                print(f"[{outcomes[-1].scenario}] recovered in {outcomes[-1].recovered:.2f} s", flush=True)
        finally:
            rig.teardown()
        report(outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
