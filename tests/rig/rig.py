"""The device rig: N devices and a workstation as network namespaces on a private bridge.

Layout (all names carry the creating process's pid, so concurrent runs never collide
and a crashed run's leftovers can be recognised and removed):

    <p>-lan   holds the bridge br0; nothing else, so the LAN has no route anywhere
    <p>-ws    the workstation: 198.18.0.1/24, where code that scans runs
    <p>-dN    device N: eth0 on br0, sshd (+ podman) in private mount/UTS namespaces

198.18.0.0/15 is the range set aside for network benchmarking (RFC 2544); it exists
only inside these namespaces. Devices outside the swept /24 sit on 198.18.1.0/24,
on the same bridge (so mDNS reaches them) with an on-link route from the workstation.
Scaling benchmarks use up to SCALE_MAX lightweight devices (``scale_specs``) at .101 and up.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.rig.devices import (
    LOGIN_PASSWORD,
    LOGIN_UID,
    LOGIN_USER,
    DeviceSpec,
    boot_script,
    foreign_boot_script,
    prepare_device_root,
    prepare_foreign_root,
)
from tests.rig.image import STORE, ensure_base_image
from tests.rig.netns import inside_netns
from tests.rig.roots import ensure_root

STATE = Path("/var/lib/sdv-rig")
_serial = itertools.count(1)
PREFIX = "sdvr"
WORKSTATION_IP = "198.18.0.1"
SWEEP_CIDR = "198.18.0.0/24"
OUTSIDE_CIDR = "198.18.1.0/24"
REQUIRED_TOOLS = ("ip", "unshare", "nsenter", "sshd", "ssh-keygen", "openssl")
ENGINE_TOOLS = ("podman", "runc", "mmdebstrap")
FOREIGN_TOOLS = ("mmdebstrap", "chroot")


def default_specs() -> list[DeviceSpec]:
    """Six working devices (d1 a Jetson, d2 and d3 with an engine), plus one reachable only
    by mDNS outside the swept range and one that refuses the workstation's key."""
    return [
        DeviceSpec("d1", "198.18.0.11", jetson=True),
        DeviceSpec("d2", "198.18.0.12", engine=True),
        DeviceSpec("d3", "198.18.0.13", engine=True),
        DeviceSpec("d4", "198.18.0.14"),
        DeviceSpec("d5", "198.18.0.15"),
        DeviceSpec("d6", "198.18.0.16"),
        DeviceSpec("d7", "198.18.1.17"),
        DeviceSpec("d8", "198.18.0.18", authorized=False),
    ]


def bench_specs() -> list[DeviceSpec]:
    """The six working devices of the default rig (one Jetson, two engines): what benchmarks measure."""
    return [s for s in default_specs() if s.authorized and s.ip.startswith("198.18.0.")]


SCALE_MAX = 48
SCALE_FIRST_HOST = 101  # scale devices take 198.18.0.101 upwards, clear of the default rig's addresses


def scale_specs(count: int) -> list[DeviceSpec]:
    """``count`` (up to SCALE_MAX) lightweight devices for scaling benchmarks: sshd alone (no engine,
    no Jetson persona), all in the swept range. They share this machine's root, mounted read-only in
    each, and own only a small /etc layer, /home, /tmp and /run: 48 of them cost a few MB and a few
    seconds to build (bench/scale.py)."""
    if not 1 <= count <= SCALE_MAX:
        raise ValueError(f"scale_specs: count {count} is not 1 to {SCALE_MAX}")
    return [DeviceSpec(f"s{i}", f"198.18.0.{SCALE_FIRST_HOST + i - 1}", read_only_root=True)
            for i in range(1, count + 1)]


def foreign_specs() -> list[DeviceSpec]:
    """Devices running another Debian, so another Python: bullseye (3.9) and trixie (3.13), and beside
    them one like the default rig's (this machine's bookworm, 3.11), so one deployment spans three."""
    return [
        DeviceSpec("bullseye", "198.18.0.31", suite="bullseye"),
        DeviceSpec("trixie", "198.18.0.32", suite="trixie"),
        DeviceSpec("bookworm", "198.18.0.33"),
    ]


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {result.stderr.strip() or result.stdout.strip()}")
    return result


def missing_tools(engine: bool, foreign: bool = False) -> list[str]:
    wanted = REQUIRED_TOOLS + (ENGINE_TOOLS if engine else ()) + (FOREIGN_TOOLS if foreign else ())
    return [t for t in wanted if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]


@dataclass
class Device:
    spec: DeviceSpec
    netns: str
    root: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ip(self) -> str:
        return self.spec.ip

    @property
    def foreign(self) -> bool:
        return self.spec.suite is not None

    @property
    def home(self) -> Path:
        """The login user's home as seen from the host."""
        if self.foreign or self.spec.home_size:  # only the device's mount namespace shows its mounts
            return Path(f"/proc/{self.pid}/root/home/{LOGIN_USER}")
        return self.root / "home" / LOGIN_USER

    @property
    def etc(self) -> Path:
        """The upper layer of the device's /etc: what the rig wrote before it booted, and what changed since."""
        return self.root / "upper" / "etc" if self.foreign else self.root / "etc"

    def sshd_ready(self) -> bool:
        """sshd wrote its pid file: the boot script's process, which exec'ed into sshd."""
        run = Path(f"/proc/{self.pid}/root/run") if self.foreign else self.root / "run"
        try:
            return (run / "sshd.pid").read_text().strip() == str(self.pid)
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def run(self, command: str, *, check: bool = True, user: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a shell command inside the device (its network, mounts and hostname), as root
        or as ``user``."""
        argv = ["nsenter", "-t", str(self.pid), "-n", "-m", "-u", *(("-r", "-w") if self.foreign else ()), "--"]
        argv += ["runuser", "-u", user, "--", "sh", "-c", command] if user else ["sh", "-c", command]
        return _run(*argv, check=check)

    def stop_sdv_apps(self) -> None:
        """Stop whatever SDV Studio's agent runs here (apps, the fallback databroker), so a test that
        needs the device's ports starts from a device as fresh as the tests before it left it."""
        stop = json.dumps({"action": "stop", "stopApps": True})
        self.run(f"python3 /home/{LOGIN_USER}/.local/share/sdv-studio/agent/entrypoint.py supervisor '{stop}'",
                 user=LOGIN_USER, check=False)

    def host_key_fingerprint_file(self) -> Path:
        return self.etc / "ssh" / "ssh_host_ed25519_key.pub"

    def rotate_host_key(self) -> None:
        """Give the device a new host key, as a re-flashed board would have.

        Written through the device's own /etc: changing the overlay's upper layer from outside
        while it is mounted is not seen inside."""
        key = "/etc/ssh/ssh_host_ed25519_key"
        self.run(f"rm -f {key} {key}.pub && ssh-keygen -q -t ed25519 -N '' -f {key}")
        os.kill(self.pid, signal.SIGHUP)  # sshd re-executes itself and reads the new key
        time.sleep(0.3)

    @property
    def _lan(self) -> str:
        return self.netns.rsplit("-", 1)[0] + "-lan"

    def link(self, up: bool) -> None:
        """Plug or unplug the device's cable (its veth end on the bridge)."""
        _run("ip", "-n", self._lan, "link", "set", f"v{self.name}", "up" if up else "down")

    def throttle(self, rate: str | None) -> None:
        """Slow what reaches the device to ``rate`` (tc's units: "4mbit"); None: full speed again."""
        if rate:
            _run("tc", "-n", self._lan, "qdisc", "replace", "dev", f"v{self.name}", "root", "tbf", "rate", rate,
                 "burst", "32kbit", "latency", "2s")
        else:
            _run("tc", "-n", self._lan, "qdisc", "del", "dev", f"v{self.name}", "root", check=False)

    def processes(self, uid: int | None = None) -> list[int]:
        """The processes in the device's network namespace (of ``uid`` only, when given). The devices
        share this machine's PID namespace: this, never a name, tells the device's own apart."""
        pids = [int(p) for p in _run("ip", "netns", "pids", self.netns, check=False).stdout.split()]
        if uid is None:
            return pids
        return [pid for pid in pids if _uid_of(pid) == uid]

    def kill_ssh_sessions(self) -> list[int]:
        """SIGKILL every sshd of the device but the listening one (the device's init): what an
        sshd crash does to the connections it served. The pids killed."""
        sessions = [pid for pid in self.processes() if pid != self.pid and _comm(pid) == "sshd"]
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return sessions

    def power_cut(self) -> None:
        """What a reboot does to the login user: every one of its processes on the device killed, and
        the device's /tmp emptied."""
        kill_until_gone(lambda: self.processes(LOGIN_UID))
        self.run("find /tmp -mindepth 1 -delete", check=False)


@dataclass
class Rig:
    """A running rig; build with ``Rig.build`` and always ``teardown``."""

    tag: str
    root: Path
    key_path: Path
    devices: dict[str, Device] = field(default_factory=dict)

    lan: str = ""
    workstation: str = ""
    user: str = LOGIN_USER
    password: str = LOGIN_PASSWORD
    sweep_cidr: str = SWEEP_CIDR
    workstation_ip: str = WORKSTATION_IP

    @classmethod
    def build(cls, specs: Sequence[DeviceSpec] | None = None) -> Rig:
        specs = list(specs or default_specs())
        reap_stale()
        tag = f"{PREFIX}{os.getpid()}x{next(_serial)}"
        root = STATE / tag
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        key = root / "id_ed25519"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sdv-studio-tests", "-f", str(key))
        rig = cls(tag=tag, root=root, key_path=key, lan=f"{tag}-lan", workstation=f"{tag}-ws")
        try:
            if any(s.engine for s in specs):
                ensure_base_image()
            for suite in sorted({s.suite for s in specs if s.suite}):
                ensure_root(suite)
            rig._build_lan()
            for spec in specs:
                rig._add_device(spec)
            rig._wait_for_sshd(timeout=20.0 + 0.5 * len(specs))  # a big rig's sshds start on shared cores
        except BaseException:
            rig.teardown()
            raise
        return rig

    # -- building -------------------------------------------------------------------------
    def _build_lan(self) -> None:
        _run("ip", "netns", "add", self.lan)
        _run("ip", "-n", self.lan, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        _run("ip", "-n", self.lan, "link", "set", "br0", "up")
        _run("ip", "netns", "add", self.workstation)
        self._plug(self.workstation, "vws", f"{WORKSTATION_IP}/24")
        _run("ip", "-n", self.workstation, "route", "add", OUTSIDE_CIDR, "dev", "eth0")

    def _plug(self, netns: str, lan_end: str, cidr: str) -> None:
        """A veth pair: eth0 inside ``netns``, ``lan_end`` on the bridge."""
        _run("ip", "-n", self.lan, "link", "add", lan_end, "type", "veth", "peer", "name", "eth0", "netns", netns)
        _run("ip", "-n", self.lan, "link", "set", lan_end, "master", "br0", "up")
        _run("ip", "-n", netns, "addr", "add", cidr, "dev", "eth0")
        _run("ip", "-n", netns, "link", "set", "eth0", "up")
        _run("ip", "-n", netns, "link", "set", "lo", "up")

    def _add_device(self, spec: DeviceSpec) -> None:
        netns = f"{self.tag}-{spec.name}"
        droot = self.root / spec.name
        _run("ip", "netns", "add", netns)
        self._plug(netns, f"v{spec.name}", f"{spec.ip}/24")
        if spec.ip.startswith("198.18.1."):
            _run("ip", "-n", netns, "route", "add", "198.18.0.0/24", "dev", "eth0")
        else:
            _run("ip", "-n", netns, "route", "add", OUTSIDE_CIDR, "dev", "eth0")
        public_key = self.key_path.with_suffix(".pub").read_text().strip()
        if spec.suite:
            lower = ensure_root(spec.suite)
            prepare_foreign_root(spec, droot, public_key, lower)
            (droot / "boot.sh").write_text(foreign_boot_script(spec, droot, lower))
        else:
            prepare_device_root(spec, droot, public_key, STORE)
            (droot / "boot.sh").write_text(boot_script(spec, droot))
        argv = ["ip", "netns", "exec", netns, "unshare", "--mount", "--uts", "--propagation", "private"]
        with open(droot / "boot.log", "wb") as log:
            process = subprocess.Popen(
                [*argv, "sh", str(droot / "boot.sh")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.devices[spec.name] = Device(spec, netns, droot, process)

    def _wait_for_sshd(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(self.devices)
        while pending and time.monotonic() < deadline:
            for name, dev in list(pending.items()):
                if dev.process and dev.process.poll() is not None:
                    raise RuntimeError(f"device {name} failed to boot: {(dev.root / 'boot.log').read_text()[-1500:]}")
                ready = dev.sshd_ready()
                if ready and dev.spec.engine:
                    ready = (dev.root / "run" / "docker.sock").exists()
                if ready:
                    del pending[name]
            time.sleep(0.05)
        if pending:
            raise RuntimeError(f"devices did not boot in {timeout:.0f}s: {sorted(pending)}")

    # -- using ----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Device:
        return self.devices[name]

    def working(self) -> list[Device]:
        """The devices a deploy should succeed on: in the swept range and accepting our key."""
        return [d for d in self.devices.values() if d.spec.authorized and d.ip.startswith("198.18.0.")]

    @contextlib.contextmanager
    def in_workstation(self) -> Iterator[None]:
        """Run this thread (and threads it starts) on the rig's LAN, as the workstation."""
        with inside_netns(self.workstation):
            yield

    def workstation_argv(self, *argv: str) -> list[str]:
        """A command line that runs a program in the workstation namespace."""
        return ["ip", "netns", "exec", self.workstation, *argv]

    # -- tearing down ---------------------------------------------------------------------
    def teardown(self) -> None:
        namespaces = [d.netns for d in self.devices.values()] + [self.workstation, self.lan]
        _kill_namespaces([ns for ns in namespaces if ns])
        for dev in self.devices.values():
            if dev.process:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    dev.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def _uid_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^Uid:\s+(\d+)", status, re.M)
    return int(match.group(1)) if match else None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _namespaces() -> list[str]:
    out = _run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def kill_until_gone(pids_of: Callable[[], list[int]], rounds: int = 50) -> None:
    """SIGKILL what ``pids_of`` lists until it lists nothing (a dying parent may start children)."""
    for _ in range(rounds):
        pids = pids_of()
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _kill_namespaces(names: Sequence[str]) -> None:
    """Kill every process in the namespaces (detached ones included), then delete them.
    The devices' mounts live in their private mount namespaces and go with the processes."""
    def pids() -> list[int]:
        return [int(p) for ns in names for p in _run("ip", "netns", "pids", ns, check=False).stdout.split()]

    kill_until_gone(pids)
    existing = set(_namespaces())
    for ns in names:
        if ns in existing:
            _run("ip", "netns", "del", ns, check=False)


def reap_stale() -> None:
    """Remove rigs left by runs that died without tearing down (their pid is gone)."""
    stale: dict[str, list[str]] = {}
    for ns in _namespaces():
        m = re.fullmatch(rf"({PREFIX}(\d+)x\d+)-\w+", ns)
        if m and not Path(f"/proc/{m.group(2)}").exists():
            stale.setdefault(m.group(1), []).append(ns)
    for tag, names in stale.items():
        _kill_namespaces(names)
        shutil.rmtree(STATE / tag, ignore_errors=True)
