"""Deployment engine on the rig: fan-out, redeploys, delta bytes, and the same job done by Ansible.

One run builds its own rig of 6 plain devices and always tears it down. It measures:

1. one device vs six in parallel, the light app (no dependencies):
   a) fresh devices (the first deployment ever: agent, supervisor, venv), broker given (no fallback
      broker to install: the orchestration's own cost);
   b) the everyday case: a new version to devices that run the previous one, broker given;
   c) fresh devices, the default: SDV Studio's fallback databroker installed on each device (a
      CPU-heavy venv and broker start; the rig's devices share this machine's cores, real devices
      would not, so this one is measured and shown beside its CPU floor, not judged);
2. redeploy of the unchanged package (target <= 1 s per device);
3. the kuksa-client app (the default mixed-fleet package: wheels for Python 3.8-3.13 on two arches),
   then a one-line change to it: bytes sent vs the package's size (target <= 5 %); then the same app
   packaged for one Python (3.11, the rig's) against the mixed-fleet package: size, warm build time
   (target <= 1.5 s for the mixed one) and bytes sent to one fresh device (target <= 1.1x single);
4. the light app to six fresh devices with ansible-core (bench/ansible/deploy.yml: copy,
   unarchive, command, wait_for; forks = devices) vs the engine (target: ours >= 3x faster).

Besides wall times it reports the CPU each side spent: this process (the engine), and each rig
device (a cpuacct cgroup holding the device's sshd, so everything run over SSH is counted),
because the rig's devices share this machine's cores with each other and with anything else
running. Stage times come from the engine's DeviceProgress events; SSH connects, agent calls and
uploads are timed by wrapping (never editing) the engine's functions, and bytes sent are counted
where the engine calls uploads.upload_files.

Run as root (PyPI is reached only before the rig exists, to build packages and ansible's venv):
    .venv/bin/python bench/deploy.py [--repeat 5] [--skip-ansible] [--skip-heavy]
Exit status 0 when every target is met, 1 when one is missed (the table says which).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sdv_studio.agent.sdvagent.services import MDNS_DELAY  # noqa: E402
from sdv_studio.core.deploy import (  # noqa: E402
    DeployOptions,
    DeviceRef,
    kuksa_wiring,
    start_deployment,
)
from sdv_studio.core.deploy.agent_link import client as agent_client  # noqa: E402
from sdv_studio.core.deploy.agent_link import transfer, uploads  # noqa: E402
from sdv_studio.core.deploy.events import DeviceLog, DeviceProgress  # noqa: E402
from sdv_studio.core.deploy.package_file import PackageFile  # noqa: E402
from sdv_studio.core.deploy.records import DeploymentRecords  # noqa: E402
from sdv_studio.core.device_wheels.broker_bundle import broker_bundle  # noqa: E402
from sdv_studio.core.device_wheels.zeroconf_wheels import zeroconf_wheels  # noqa: E402
from sdv_studio.core.packaging.builder import BuildOptions, build_package  # noqa: E402
from sdv_studio.core.ssh import connection  # noqa: E402
from sdv_studio.core.ssh.known_hosts import KnownHosts  # noqa: E402
from sdv_studio.core.ssh.target import SshTarget  # noqa: E402
from sdv_studio.core.ssh.trust import HostKeyTrust  # noqa: E402
from sdv_studio.models.package import PYTHONS  # noqa: E402
from tests.rig.devices import LOGIN_UID, LOGIN_USER, DeviceSpec  # noqa: E402
from tests.rig.rig import Device, Rig, kill_until_gone  # noqa: E402

APPS = ROOT / "tests" / "data" / "apps"
ANSIBLE_DIR = Path(__file__).resolve().parent / "ansible"
ANSIBLE_VENV = Path("/var/cache/sdv-bench/ansible-venv")
ANSIBLE_REQUIREMENT = "ansible-core>=2.17,<2.21"
SPECS = [DeviceSpec(f"d{i}", f"198.18.0.{10 + i}") for i in range(1, 7)]
GIVEN_BROKER = "127.0.0.1:55555"
AGENT_HOME = f"/home/{LOGIN_USER}/.local/share/sdv-studio"
ANSIBLE_HOME = f"/home/{LOGIN_USER}/ansible-deploy"
ANSIBLE_HEALTH_PORT = 18080
STAGES = ["compatibility", "transfer", "install", "kuksa", "start", "health"]
DEPLOY_TIMEOUT = 600.0


# -- instrumentation (wrapping, never editing, the engine) ----------------------------------------
@dataclass
class Meter:
    """What the engine uploaded (payload bytes per kind and device) and how long its calls took."""

    sent: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    calls: list[tuple[str, str, float]] = field(default_factory=list)  # (host, what, seconds)

    def reset(self) -> None:
        self.sent.clear()
        self.calls.clear()

    def bytes(self, kind: str) -> dict[str, int]:
        return {host: n for (k, host), n in self.sent.items() if k == kind}


METER = Meter()


def _host(conn: Any) -> str:
    target = getattr(getattr(conn, "remote", conn), "target", None)  # a connection, or an AgentClient
    return str(getattr(target, "host", "local"))


def _instrument() -> None:
    """Count bytes at each caller of uploads.upload_files (and the agent's bundle), and time agent calls
    and SSH connects."""
    original_upload = uploads.upload_files

    def counting(kind: str) -> Callable[..., Any]:
        async def upload_files(conn: Any, files: Sequence[tuple[bytes, str]], **kw: Any) -> int:
            started = time.perf_counter()
            n = await original_upload(conn, files, **kw)
            mdns = sum(len(data) for data, path in files if "/mdns-wheels/" in path)  # sent with the package
            METER.sent[(kind, _host(conn))] += n - mdns
            if mdns:
                METER.sent[("mdns", _host(conn))] += mdns
            METER.calls.append((_host(conn), f"upload {kind}", time.perf_counter() - started))
            return n
        return upload_files

    transfer.upload_files = counting("package")  # type: ignore[assignment]
    kuksa_wiring.upload_files = counting("broker")  # type: ignore[assignment]

    original_call = agent_client.AgentClient.call

    async def call(self: agent_client.AgentClient, command: str, args: dict[str, Any] | None = None,
                   **kw: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return await original_call(self, command, args, **kw)
        finally:
            METER.calls.append((_host(self.remote), f"agent {command}", time.perf_counter() - started))

    agent_client.AgentClient.call = call  # type: ignore[method-assign]

    original_open = connection.open_connection

    async def open_connection(target: SshTarget, trust: HostKeyTrust, **kw: Any) -> connection.SshConnection:
        started = time.perf_counter()
        try:
            return await original_open(target, trust, **kw)
        finally:
            METER.calls.append((target.host, "ssh connect", time.perf_counter() - started))

    connection.open_connection = open_connection  # type: ignore[assignment]

    original_first = agent_client.AgentSession.call

    async def session_call(self: agent_client.AgentSession, command: str, args: dict[str, Any], timeout: float,
                           on_progress: Any = None, bundle: bytes | None = None, **kw: Any) -> dict[str, Any]:
        """The session's first call (the one that may carry the agent); later ones are timed above."""
        if bundle is None:
            return await original_first(self, command, args, timeout, on_progress, **kw)
        stream = self._stream
        send, sent = stream.send, [0]

        async def counting(data: bytes) -> None:
            sent[0] += len(data)
            await send(data)

        stream.send = counting  # type: ignore[method-assign]
        started = time.perf_counter()
        try:
            return await original_first(self, command, args, timeout, on_progress, bundle)
        finally:
            stream.send = send  # type: ignore[method-assign]
            host = self._label.rpartition("@")[2]  # user@host: the rig's devices use port 22
            installed = sent[0] >= len(bundle)
            if installed:
                METER.sent[("agent", host)] += len(bundle)
            what = "agent install + first call" if installed else "agent first call"
            METER.calls.append((host, what, time.perf_counter() - started))

    agent_client.AgentSession.call = session_call  # type: ignore[method-assign]

    original_run = connection.SshConnection.run

    async def run(self: connection.SshConnection, command: str, **kw: Any) -> connection.CommandResult:
        started = time.perf_counter()
        try:
            return await original_run(self, command, **kw)
        finally:
            METER.calls.append((self.target.host, "ssh run " + (command.split() or ["?"])[0],
                                time.perf_counter() - started))

    connection.SshConnection.run = run  # type: ignore[method-assign]


def _cpu_busy_seconds() -> float:
    """This machine's busy CPU time (all cores, everything running), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _tx_bytes(rig: Rig) -> int:
    out = subprocess.run(["ip", "netns", "exec", rig.workstation, "cat", "/sys/class/net/eth0/statistics/tx_bytes"],
                         capture_output=True, text=True, check=True).stdout
    return int(out)


class DeviceCpu:
    """CPU time spent on each rig device, from a cpuacct cgroup holding its sshd: everything the
    engine (or Ansible) runs there is a child of it. Exact whatever else loads this machine."""

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self, devices: Sequence[Device]) -> None:
        for stale in self.ROOT.glob("sdv-bench-deploy-*"):  # left by a run that was killed
            if not Path(f"/proc/{stale.name.rsplit('-', 1)[1]}").exists():
                for group in [*stale.iterdir(), stale]:
                    with contextlib.suppress(OSError):
                        group.rmdir()
        self.base = self.ROOT / f"sdv-bench-deploy-{os.getpid()}"
        self.groups: dict[str, Path] = {}
        try:
            for dev in devices:
                group = self.base / dev.name
                group.mkdir(parents=True, exist_ok=True)
                (group / "cgroup.procs").write_text(str(dev.pid))
                self.groups[dev.name] = group
        except OSError as exc:
            print(f"(no per-device CPU accounting: {exc})", flush=True)
            self.groups = {}

    def usage(self) -> dict[str, float]:
        return {name: int((g / "cpuacct.usage").read_text()) / 1e9 for name, g in self.groups.items()}

    def close(self) -> None:
        """After the rig's teardown: the groups are empty by then."""
        for group in [*self.groups.values(), self.base]:
            with contextlib.suppress(OSError):
                group.rmdir()


CPU: DeviceCpu | None = None


def _own_cpu() -> float:
    """CPU seconds of this process (the engine: event loop, paramiko threads) and its waited children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _device_cpu() -> dict[str, float]:
    return CPU.usage() if CPU else {}


# -- one deployment, timed ------------------------------------------------------------------------
@dataclass
class Run:
    label: str
    devices: int
    wall: float
    per_device: dict[str, float]  # device -> seconds from the start until its "done" event
    stages: dict[str, dict[str, float]]  # device -> stage -> seconds
    logs: dict[str, list[str]]
    sent: dict[str, dict[str, int]]  # kind -> device ip -> bytes
    calls: list[tuple[str, str, float]]
    cpu: float  # machine busy CPU seconds during the run (anything else running included)
    tx: int  # bytes the workstation sent on the rig LAN during the run
    own_cpu: float = 0.0  # this process: the engine on the workstation
    device_cpu: dict[str, float] = field(default_factory=dict)  # per device, from its cgroup

    @property
    def devices_cpu(self) -> float:
        return sum(self.device_cpu.values())


def deploy(rig: Rig, devices: list[Device], package: PackageFile, trust: HostKeyTrust, records: DeploymentRecords,
           options: DeployOptions, label: str, concurrency: int | None = 8) -> Run:
    refs = [DeviceRef(d.name, SshTarget(d.ip, user=rig.user, key_file=rig.key_path, use_keyring=False))
            for d in devices]
    METER.reset()

    async def go() -> tuple[float, Any, list[tuple[float, Any]]]:
        started = time.perf_counter()
        run = start_deployment(package, refs, trust, options, records=records, concurrency=concurrency)
        events: list[tuple[float, Any]] = []

        async def follow() -> None:
            async for event in run.hub.follow():
                events.append((time.perf_counter() - started, event))

        try:
            await asyncio.wait_for(follow(), DEPLOY_TIMEOUT)
            result = await asyncio.wait_for(run.wait(), 30)
        except TimeoutError:
            run.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run.wait(), 30)
            raise RuntimeError(f"{label}: the deployment did not finish in {DEPLOY_TIMEOUT:.0f} s") from None
        return time.perf_counter() - started, result, events

    cpu0, tx0, own0, dev0 = _cpu_busy_seconds(), _tx_bytes(rig), _own_cpu(), _device_cpu()
    with rig.in_workstation():
        wall, result, events = asyncio.run(go())
    cpu, tx, own = _cpu_busy_seconds() - cpu0, _tx_bytes(rig) - tx0, _own_cpu() - own0
    dev_cpu = {name: used - dev0[name] for name, used in _device_cpu().items() if name in {d.name for d in devices}}
    if result.status != "completed":
        problems = [(d.device_id, d.status, d.message, d.logs[-5:]) for d in result.devices if d.status != "success"]
        raise RuntimeError(f"{label}: deployment {result.status}: {problems}")

    stages: dict[str, dict[str, float]] = {}
    logs: dict[str, list[str]] = defaultdict(list)
    for dev in devices:
        marks = [(t, e.stage) for t, e in events if isinstance(e, DeviceProgress) and e.device_id == dev.name]
        stages[dev.name] = {stage: nxt[0] - t for (t, stage), nxt in itertools.pairwise(marks)}
    for t, e in events:
        if isinstance(e, DeviceLog):
            logs[e.device_id].append(f"{t:6.2f}s {e.line}")
    # When each device was done, from the deployment's start (all devices start at once).
    per_device = {e.device_id: t for t, e in events if isinstance(e, DeviceProgress) and e.stage == "done"}
    sent = {kind: METER.bytes(kind) for kind in ("package", "agent", "broker", "mdns")}
    return Run(label, len(devices), wall, per_device, stages, dict(logs), sent, list(METER.calls), cpu, tx,
               own, dev_cpu)


# -- devices: fresh again, without touching anything outside the rig -------------------------------
def _netns_pids(netns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _uid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def make_fresh(devices: Sequence[Device]) -> None:
    """Stop every process the login user runs on these rig devices (the agent's supervisor, apps,
    brokers, Ansible's apps: found by the device's network namespace, killed by pid) and delete
    what the agent and Ansible left in the home, so the next deploy starts from nothing."""
    for dev in devices:
        kill_until_gone(lambda dev=dev: [p for p in _netns_pids(dev.netns) if _uid(p) == LOGIN_UID])
        dev.run(f"rm -rf {AGENT_HOME} {ANSIBLE_HOME} /home/{LOGIN_USER}/.ansible /tmp/sdv-* /run/user/{LOGIN_UID}",
                check=False)


# -- Ansible ---------------------------------------------------------------------------------------
def ensure_ansible() -> Path:
    playbook = ANSIBLE_VENV / "bin" / "ansible-playbook"
    if not playbook.exists():
        ANSIBLE_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True, timeout=120)
        subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", ANSIBLE_REQUIREMENT],
                       check=True, timeout=600)
    return playbook


@dataclass
class AnsibleRun:
    wall: float
    play: float  # first task start to the end: without ansible-playbook's own start-up
    tasks: list[tuple[str, float]]
    own_cpu: float  # ansible-playbook and its forks, on the workstation
    device_cpu: dict[str, float]


def run_ansible(rig: Rig, devices: list[Device], package: PackageFile, work: Path) -> AnsibleRun:
    work.mkdir(parents=True, exist_ok=True)
    known = work / "known_hosts"
    known.write_text("".join(
        f"{d.ip} {' '.join(d.host_key_fingerprint_file().read_text().split()[:2])}\n" for d in devices))
    launch = json.loads(package.entries["launch.json"])
    argv = " ".join(shlex.quote(a) for a in launch["argv"][1:])
    host_vars = {
        "ansible_host": None, "ansible_user": rig.user, "ansible_ssh_private_key_file": str(rig.key_path),
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={known}",
    }
    lines = ["[devices]"]
    for d in devices:
        host_vars["ansible_host"] = d.ip
        lines.append(d.name + " " + " ".join(f"{k}={shlex.quote(str(v))}" for k, v in host_vars.items()))
    inventory = work / "inventory.ini"
    inventory.write_text("\n".join(lines) + "\n")
    extra = {
        "package": str(package.path), "app_name": package.name, "app_version": package.version,
        "release": f"{package.version}-{package.package_id[4:12]}", "arch": "x86_64", "app_argv": argv,
        "health_port": ANSIBLE_HEALTH_PORT, "broker": GIVEN_BROKER, "ansible_deploy_home": ANSIBLE_HOME,
    }
    timer = work / "tasks.jsonl"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"), ANSIBLE_HOME=str(work / "home"),
               ANSIBLE_LOCAL_TEMP=str(work / "tmp"), ANSIBLE_SSH_CONTROL_PATH_DIR=str(work / "cp"),
               TASK_TIMER_OUT=str(timer))
    cmd = rig.workstation_argv(str(ensure_ansible()), "-i", str(inventory), "-f", str(len(devices)),
                               "-e", json.dumps(extra), str(ANSIBLE_DIR / "deploy.yml"))
    own0, dev0 = _own_cpu(), _device_cpu()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ANSIBLE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True)
    try:
        out, _ = proc.communicate(timeout=DEPLOY_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"ansible-playbook did not finish in {DEPLOY_TIMEOUT:.0f} s") from None
    wall = time.monotonic() - started
    own = _own_cpu() - own0
    dev_cpu = {name: used - dev0[name] for name, used in _device_cpu().items()}
    (work / "ansible.log").write_text(out)
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed ({proc.returncode}):\n{out[-3000:]}")
    rows = [json.loads(line) for line in timer.read_text().splitlines()]
    tasks = [(str(r["task"]), float(r["end"]) - float(r["start"])) for r in rows]
    play = time.monotonic() - float(rows[0]["start"]) if rows else wall
    for dev in devices:  # check the app really runs, then stop it (by its pid)
        pidfile = f"{ANSIBLE_HOME}/{package.name}/{extra['release']}/app.pid"
        dev.run(f"kill -0 $(cat {pidfile})")
    return AnsibleRun(wall, play, tasks, own, dev_cpu)


# -- packages --------------------------------------------------------------------------------------
def build(work: Path, source: Path, name: str, version: str = "1.0.0", edit: Callable[[str], str] | None = None,
          pythons: Sequence[str] = PYTHONS) -> PackageFile:
    code = source.read_text()
    tag = f"{name}-{version}{'-edited' if edit else ''}-{len(pythons)}py"
    path = work / f"src-{tag}" / source.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(edit(code) if edit else code)
    options = BuildOptions(name=name, version=version, output_dir=work / f"out-{tag}", python_versions=pythons)
    package = PackageFile(build_package(path, options).path)
    package.sums  # noqa: B018 - read and verify now, outside every timing
    return package


@dataclass
class SinglePython:
    """The kuksa-client app packaged for the rig's Python alone, and warm build times of both forms."""

    package: PackageFile
    warm_mixed: float
    warm_single: float


def warm_build_seconds(work: Path, source: Path, name: str, pythons: Sequence[str]) -> float:
    """One more build of an app built before: the wheel cache is warm (median of 3)."""
    times = []
    for run in range(3):
        started = time.perf_counter()
        build_package(source, BuildOptions(name=name, python_versions=pythons,
                                           output_dir=work / f"warm-{len(pythons)}py-{run}"))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- reporting -------------------------------------------------------------------------------------
def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def stage_table(runs: Sequence[Run]) -> list[str]:
    head = f"  {'run':<38}{'wall':>7}" + "".join(f"{s:>14}" for s in STAGES)
    lines = [head + f"{'CPU engine':>12}{'CPU/device':>12}"]
    for r in runs:
        cells = []
        for s in STAGES:
            values = [st.get(s, 0.0) for st in r.stages.values()]
            cells.append(f"{_median(values):6.2f}/{max(values):<6.2f}" if values else f"{'-':>13}")
        per_dev = _median(list(r.device_cpu.values())) if r.device_cpu else float("nan")
        lines.append(f"  {r.label:<38}{r.wall:7.2f} " + " ".join(f"{c:>13}" for c in cells)
                     + f"{r.own_cpu:12.2f}{per_dev:12.2f}")
    lines.append("  (seconds; stages: median/max over the run's devices, from a stage's event to the next one; "
                 "CPU: this process, and the median device)")
    return lines


def call_table(run: Run) -> list[str]:
    per: dict[str, list[float]] = defaultdict(list)
    for _host, what, seconds in run.calls:
        per[what].append(seconds)
    ordered = sorted(per.items(), key=lambda kv: -sum(kv[1]))
    lines = [f"  calls in '{run.label}' ({run.devices} device(s)): what, count, median, max, sum (s)"]
    for what, values in ordered:
        lines.append(f"    {what:<28}{len(values):4d} {_median(values):7.2f} {max(values):7.2f} {sum(values):7.2f}")
    return lines


def print_run(run: Run) -> None:
    per = list(run.per_device.values())
    print(f"[{run.label}] {run.devices} device(s): wall {run.wall:.2f} s, each done after median {_median(per):.2f} s "
          f"max {max(per):.2f} s; CPU: engine {run.own_cpu:.1f} s, devices {run.devices_cpu:.1f} s, "
          f"whole machine {run.cpu:.1f} s; LAN tx {run.tx / 1e6:.2f} MB", flush=True)
    for kind, by_host in run.sent.items():
        if by_host:
            print(f"    sent {kind}: " + ", ".join(f"{h} {n}" for h, n in sorted(by_host.items())), flush=True)


@dataclass
class Results:
    runs: dict[str, list[Run]] = field(default_factory=lambda: defaultdict(list))
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, measured, target, verdict

    def add(self, run: Run) -> Run:
        self.runs[run.label].append(run)
        print_run(run)
        return run

    def wall(self, label: str) -> float:
        return _median([r.wall for r in self.runs[label]])

    def row(self, what: str, measured: str, target: str, ok: bool | None) -> None:
        verdict = "n/a" if ok is None else ("meets" if ok else "MISSES")
        self.rows.append((what, measured, target, verdict))


# -- the bench -------------------------------------------------------------------------------------
def fan_out(rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, light: PackageFile, res: Results,
            options: DeployOptions, tag: str, repeat: int) -> tuple[float, float]:
    devices = rig.working()
    for _ in range(repeat):
        make_fresh(devices)
        res.add(deploy(rig, devices[:1], light, trust, records, options, f"{tag}: 1 device"))
        make_fresh(devices)
        res.add(deploy(rig, devices, light, trust, records, options, f"{tag}: 6 devices"))
    return res.wall(f"{tag}: 1 device"), res.wall(f"{tag}: 6 devices")


def deferred_cpu(res: Results, devices: Sequence[Device]) -> None:
    """What the devices spend after a deployment finished: the mDNS advertiser starts python-zeroconf
    MDNS_DELAY seconds later (so it never competes with the app's health gate), plus the idle app and
    supervisor. Outside every timed figure, so reported on its own."""
    before = _device_cpu()
    time.sleep(MDNS_DELAY + 4)
    after = _device_cpu()
    used = [after[d.name] - before[d.name] for d in devices if d.name in before]
    if used:
        res.row(f"  device CPU in the {MDNS_DELAY + 4:.0f} s after (deferred mDNS advertiser, idle app)",
                f"{_median(used):.2f} s per device", "", None)


def update_fan_out(rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, work: Path, res: Results,
                   options: DeployOptions, repeat: int) -> None:
    """The everyday case: a new version to devices that run the previous one (agent and supervisor
    there already). Each timed deployment sends a version no device has seen."""
    devices = rig.working()
    make_fresh(devices)
    for r in range(repeat):
        base, one, six = (build(work, APPS / "light_counter.py", "light", f"2.{r}.{n}") for n in range(3))
        deploy(rig, devices, base, trust, records, options, "update: previous version in place")
        res.add(deploy(rig, devices[:1], one, trust, records, options, "update: 1 device"))
        res.add(deploy(rig, devices, six, trust, records, options, "update: 6 devices"))
    one_wall, six_wall = res.wall("update: 1 device"), res.wall("update: 6 devices")
    res.row("update (new version over the previous): 1 device / 6 devices (s)", f"{one_wall:.2f} / {six_wall:.2f}",
            "", None)
    res.row("  6 vs 1, update (ratio of medians)", f"{six_wall / one_wall:.2f}x", "<= 1.5x", six_wall / one_wall <= 1.5)
    paired_row(res, "update")
    cpu_rows(res, "update")


def paired_row(res: Results, tag: str, judged: bool = True) -> None:
    """Each six-device run against the one-device run just before it: less exposed to load drifting."""
    pairs = zip(res.runs[f"{tag}: 1 device"], res.runs[f"{tag}: 6 devices"], strict=True)
    ratios = [six.wall / one.wall for one, six in pairs]
    spread = f"{_median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
    res.row("  6 vs 1, median of paired runs (min-max)", spread, "<= 1.5x" if judged else "",
            _median(ratios) <= 1.5 if judged else None)


def cpu_rows(res: Results, tag: str) -> None:
    """CPU spent, and the wall time six devices cannot go under on this machine's cores."""
    one, six = res.runs[f"{tag}: 1 device"], res.runs[f"{tag}: 6 devices"]
    e1, d1 = _median([r.own_cpu for r in one]), _median([r.devices_cpu for r in one])
    e6, d6 = _median([r.own_cpu for r in six]), _median([r.devices_cpu for r in six])
    cores = os.cpu_count() or 1
    res.row("  CPU engine + devices: 1 device / 6 devices (s)", f"{e1:.1f}+{d1:.1f} / {e6:.1f}+{d6:.1f}", "", None)
    res.row(f"  6 devices' CPU spread over {cores} cores (s)", f"{(e6 + d6) / cores:.2f}",
            f"= {(e6 + d6) / cores / res.wall(f'{tag}: 1 device'):.2f}x one", None)


def bench(rig: Rig, work: Path, light: PackageFile, kuksa: PackageFile, kuksa_edited: PackageFile | None,
          single: SinglePython | None, args: argparse.Namespace) -> Results:
    res = Results()
    trust = HostKeyTrust(KnownHosts(work / "known_hosts"), accept_new=True)
    records = DeploymentRecords(work / "records")
    devices = rig.working()
    grace = args.grace
    given = DeployOptions(broker=GIVEN_BROKER, grace_seconds=grace)
    fallback = DeployOptions(grace_seconds=grace)

    # Warm-up (untimed): the first connection in this process pays for imports and key loading.
    deploy(rig, devices[:1], light, trust, records, given, "warm-up")

    print(f"\n== 1a. fan-out to fresh devices, broker given ({GIVEN_BROKER}: no broker install), "
          f"grace {grace} s ==", flush=True)
    one, six = fan_out(rig, trust, records, light, res, given, "light, broker given", args.repeat)
    res.row("fan-out, broker given: 1 device / 6 devices (s)", f"{one:.2f} / {six:.2f}", "", None)
    res.row("  6 vs 1, broker given (ratio of medians)", f"{six / one:.2f}x", "<= 1.5x", six / one <= 1.5)
    paired_row(res, "light, broker given")
    cpu_rows(res, "light, broker given")
    deferred_cpu(res, devices)

    print(f"\n== 1b. fan-out of an update: a new version to devices running the previous one, broker given, "
          f"grace {grace} s ==", flush=True)
    update_fan_out(rig, trust, records, work, res, given, args.repeat)

    print("\n== 1c. fan-out, default: fallback databroker installed on each device ==", flush=True)
    one_f, six_f = fan_out(rig, trust, records, light, res, fallback, "light, fallback broker", args.repeat_heavy)
    res.row("fan-out, fallback broker: 1 device / 6 devices (s)", f"{one_f:.2f} / {six_f:.2f}", "", None)
    # Measured, not judged: each device's broker start is ~1.5-2 s of CPU, which six rig devices must
    # share on this machine's cores (the CPU row below is the floor that sets); real devices have their own.
    res.row("  6 vs 1, fallback broker installed (rig-bound, see the CPU floor)", f"{six_f / one_f:.2f}x", "", None)
    if args.repeat_heavy > 1:
        paired_row(res, "light, fallback broker", judged=False)
    cpu_rows(res, "light, fallback broker")

    print("\n== 2. redeploy of the unchanged package (devices run it, broker running) ==", flush=True)
    for _ in range(args.repeat):
        res.add(deploy(rig, devices[:1], light, trust, records, fallback, "redeploy unchanged: 1 device"))
        res.add(deploy(rig, devices, light, trust, records, fallback, "redeploy unchanged: 6 devices"))
    re_one = res.wall("redeploy unchanged: 1 device")
    re_six = res.wall("redeploy unchanged: 6 devices")
    done = [t for r in res.runs["redeploy unchanged: 6 devices"] for t in r.per_device.values()]
    res.row("redeploy unchanged, 1 device: wall (s)", f"{re_one:.2f}", "<= 1 s", re_one <= 1.0)
    res.row("redeploy unchanged, 6 devices: wall / wall per device (s)", f"{re_six:.2f} / {re_six / 6:.2f}",
            "<= 1 s per device", re_six / 6 <= 1.0)
    res.row("  6 devices: each device done after, median / max (s)", f"{_median(done):.2f} / {max(done):.2f}",
            "", None)

    if kuksa_edited is not None:
        print(f"\n== 3. kuksa-client app ({kuksa.size / 1e6:.1f} MB package), then a one-line change ==", flush=True)
        first = res.add(deploy(rig, devices, kuksa, trust, records, fallback, "kuksa app v1: 6 devices"))
        res.row("kuksa app (heavy venv) first deploy, 6 devices (s)", f"{first.wall:.2f}",
                f"CPU/device {_median(list(first.device_cpu.values())):.1f} s", None)
        edit = res.add(deploy(rig, devices, kuksa_edited, trust, records, fallback,
                              "kuksa app one-line change: 6 devices"))
        sent = edit.sent["package"]
        worst = max(sent.values())
        share = worst / kuksa_edited.size
        full = _median(list(first.sent["package"].values()))
        res.row("one-line change: package bytes sent per device", f"{worst} B ({share:.3%})",
                "<= 5% of package", share <= 0.05)
        res.row("  first deploy sent per device / package size", f"{full / 1e6:.1f} MB / {kuksa.size / 1e6:.1f} MB",
                "", None)
        res.row("  all SSH traffic per device (LAN tx / 6)", f"{edit.tx / len(devices) / 1e3:.0f} kB "
                f"({edit.tx / len(devices) / kuksa_edited.size:.2%})", "", None)
        res.row("  one-line change redeploy wall, 6 devices (s)", f"{edit.wall:.2f}",
                f"CPU/device {_median(list(edit.device_cpu.values())):.1f} s", None)

    if single is not None:
        mixed_vs_single(rig, trust, records, kuksa, single, fallback, res)  # a fresh device has no broker

    if not args.skip_ansible:
        print("\n== 4. the same deployment (light app, 6 fresh devices, broker given) with Ansible ==", flush=True)
        ansible_runs: list[AnsibleRun] = []
        for i in range(args.repeat_ansible):
            make_fresh(devices)
            a = run_ansible(rig, devices, light, work / f"ansible{i}")
            ansible_runs.append(a)
            print(f"[ansible] wall {a.wall:.2f} s (play {a.play:.2f} s), CPU controller {a.own_cpu:.1f} s, "
                  f"devices {sum(a.device_cpu.values()):.1f} s; tasks: "
                  + ", ".join(f"{name} {t:.2f}" for name, t in a.tasks), flush=True)
            make_fresh(devices)
            res.add(deploy(rig, devices, light, trust, records, given, "ours vs ansible: 6 devices"))
        a_wall = _median([a.wall for a in ansible_runs])
        a_play = _median([a.play for a in ansible_runs])
        ours = res.wall("ours vs ansible: 6 devices")
        res.row("Ansible, 6 devices: playbook wall / play only (s)", f"{a_wall:.2f} / {a_play:.2f}", "", None)
        res.row("ours, 6 devices, same deployment (s)", f"{ours:.2f}", "", None)
        res.row("  Ansible / ours (playbook wall)", f"{a_wall / ours:.2f}x", ">= 3x", a_wall / ours >= 3)
        res.row("  Ansible / ours (play only, no ansible start-up)", f"{a_play / ours:.2f}x", ">= 3x",
                a_play / ours >= 3)
        ours_runs = res.runs["ours vs ansible: 6 devices"]
        ratios = [a.wall / r.wall for a, r in zip(ansible_runs, ours_runs, strict=True)]
        res.row("  Ansible / ours, median of paired runs (min-max)",
                f"{_median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})", ">= 3x", _median(ratios) >= 3)
        res.row("  CPU, Ansible: controller / devices (s)", f"{_median([a.own_cpu for a in ansible_runs]):.1f} / "
                f"{_median([sum(a.device_cpu.values()) for a in ansible_runs]):.1f}", "", None)
        res.row("  CPU, ours: engine / devices (s)", f"{_median([r.own_cpu for r in ours_runs]):.1f} / "
                f"{_median([r.devices_cpu for r in ours_runs]):.1f}", "", None)
        for name in dict(ansible_runs[0].tasks):
            values = [dict(a.tasks).get(name, 0.0) for a in ansible_runs]
            res.row(f"  ansible task: {name}", f"{_median(values):.2f} s", "", None)
    return res


def mixed_vs_single(rig: Rig, trust: HostKeyTrust, records: DeploymentRecords, mixed: PackageFile,
                    single: SinglePython, options: DeployOptions, res: Results) -> None:
    print("\n== 3b. kuksa-client app: mixed-fleet package (Python 3.8-3.13) vs single-Python (3.11), "
          "one fresh device ==", flush=True)
    device = rig.working()[:1]
    sent = {}
    for label, package in (("mixed fleet", mixed), ("single Python", single.package)):
        make_fresh(device)
        run = res.add(deploy(rig, device, package, trust, records, options, f"kuksa app {label}: 1 fresh device"))
        sent[label] = sum(run.sent["package"].values())
    ratio = sent["mixed fleet"] / sent["single Python"]
    res.row("kuksa app package size: mixed fleet / single Python (MB)",
            f"{mixed.size / 1e6:.1f} / {single.package.size / 1e6:.1f}", "", None)
    res.row("  warm build: mixed fleet / single Python (s)", f"{single.warm_mixed:.2f} / {single.warm_single:.2f}",
            "<= 1.5 s (mixed)", single.warm_mixed <= 1.5)
    res.row("  bytes to one fresh device: mixed / single (MB)",
            f"{sent['mixed fleet'] / 1e6:.2f} / {sent['single Python'] / 1e6:.2f} ({ratio:.3f}x)", "<= 1.1x",
            ratio <= 1.1)


def report(res: Results, args: argparse.Namespace) -> None:
    every = [r for runs in res.runs.values() for r in runs]
    print("\n== per-stage breakdown (wall per stage, from the DeviceProgress events) ==")
    for line in stage_table(every):
        print(line)
    print("\n== where the time goes: SSH connects, agent calls, uploads (per call) ==")
    for label in ("light, broker given: 1 device", "light, broker given: 6 devices",
                  "light, fallback broker: 6 devices", "redeploy unchanged: 1 device",
                  "kuksa app one-line change: 6 devices"):
        if res.runs.get(label):
            for line in call_table(res.runs[label][-1]):
                print(line)
    print(f"\n== summary (median of {args.repeat} run(s) where repeated; grace period {args.grace} s) ==")
    width = max(len(r[0]) for r in res.rows) + 2
    print(f"{'measure':<{width}}{'measured':>26}  {'target':<20}{'verdict'}")
    for what, measured, target, verdict in res.rows:
        print(f"{what:<{width}}{measured:>26}  {target:<20}{verdict}")


@contextlib.contextmanager
def rig_of_six() -> Iterator[Rig]:
    rig = Rig.build(SPECS)
    try:
        yield rig
    finally:
        rig.teardown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of the light fan-out and redeploys")
    parser.add_argument("--repeat-heavy", type=int, default=2, help="runs of the fan-out with the fallback broker")
    parser.add_argument("--repeat-ansible", type=int, default=3)
    parser.add_argument("--grace", type=float, default=1.0, help="health gate grace period (s)")
    parser.add_argument("--skip-ansible", action="store_true")
    parser.add_argument("--skip-heavy", action="store_true", help="skip the kuksa-client delta test")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: the rig is made of network namespaces", file=sys.stderr)
        return 2
    _instrument()
    with tempfile.TemporaryDirectory(prefix="sdv-bench-deploy-") as tmp:
        work = Path(tmp)
        # Everything that needs PyPI happens before the rig exists (its LAN has no route out).
        t0 = time.perf_counter()
        light = build(work, APPS / "light_counter.py", "light")
        kuksa = kuksa_edited = None
        single = None
        if not args.skip_heavy:
            kuksa = build(work, APPS / "kuksa_app.py", "speed-watch")
            kuksa_edited = build(work, APPS / "kuksa_app.py", "speed-watch", edit=lambda code: code.replace(
                '"speed-watch starting, databroker %s:%s"', '"speed-watch starting (edited), databroker %s:%s"'))
            assert kuksa_edited.package_id != kuksa.package_id
            single = SinglePython(build(work, APPS / "kuksa_app.py", "speed-watch", pythons=["3.11"]),
                                  warm_build_seconds(work, APPS / "kuksa_app.py", "speed-watch", PYTHONS),
                                  warm_build_seconds(work, APPS / "kuksa_app.py", "speed-watch", ["3.11"]))
        broker_bundle("3.11", "x86_64")
        zeroconf_wheels("3.11", "x86_64")
        if not args.skip_ansible:
            ensure_ansible()
        print(f"packages built, broker bundle and ansible ready in {time.perf_counter() - t0:.1f} s: "
              f"light {light.size} B, kuksa-client app {kuksa.size if kuksa else 0} B", flush=True)
        t0 = time.perf_counter()
        global CPU
        try:
            with rig_of_six() as rig:
                print(f"rig of 6 devices up in {time.perf_counter() - t0:.1f} s ({rig.tag})", flush=True)
                CPU = DeviceCpu(rig.working())
                res = bench(rig, work, light, kuksa or light, kuksa_edited, single, args)
        finally:
            if CPU:
                CPU.close()
        report(res, args)
    return 0 if all(r[3] != "MISSES" for r in res.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
