"""What the fault scenarios (tests/rig/test_faults.py, bench/faults.py) need: deployments watched as
they run, and of a rig device the apps it really runs, what a deployment left half-done in the
agent's folders, whether a deployment holds it, its boot hook, and apps that misbehave on cue."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sdv_studio.core.deploy import DeployOptions, start_deployment
from sdv_studio.core.deploy.events import DeploymentEvent
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment
from tests.core.deploy.conftest import build, ref
from tests.rig.devices import LOGIN_UID, LOGIN_USER
from tests.rig.rig import Device, Rig

AGENT_HOME = f"/home/{LOGIN_USER}/.local/share/sdv-studio"
AGENT = f"python3 {AGENT_HOME}/agent/entrypoint.py"
ROOT = Path(__file__).resolve().parents[2]

# Programs (a __main__ guard or a loop: run as they are, under the launcher that serves /health).
# Exits at once, so it fails its health gate.
CRASHING = """\
import sys

if __name__ == "__main__":
    sys.exit("cannot start: missing calibration file")
"""
# Passes its health gate, then dies: the supervisor's to restart.
LATE_CRASH = """\
import sys
import time

if __name__ == "__main__":
    print("up", flush=True)
    time.sleep(10)
    sys.exit(3)
"""
COUNTER = """\
import time

n = 0
while True:
    n += 1
    print("tick", n, flush=True)
    time.sleep(1)
"""


def deploy(rig: Rig, device: Device, package: PackageFile, trust: HostKeyTrust, records: DeploymentRecords,
           options: DeployOptions, on_event: Callable[[DeploymentEvent], None] | None = None) -> Deployment:
    """Deploy from the workstation, handing every event to ``on_event`` as it happens."""
    async def go() -> Deployment:
        run = start_deployment(package, [ref(rig, device)], trust, options, records=records)
        async for event in run.hub.follow():
            if on_event:
                on_event(event)
        return await run.wait()

    with rig.in_workstation():
        return asyncio.run(go())


def when(check: Callable[[], bool], action: Callable[[], object], timeout: float = 120) -> threading.Event:
    """Watch in a thread of its own; run ``action`` once ``check()`` holds. The event says it did."""
    done = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                action()
                done.set()
                return
            time.sleep(0.01)

    threading.Thread(target=watch, daemon=True).start()
    return done


def heavy(tmp: Path, name: str, version: str) -> PackageFile:
    """The counter with a requirement to install (grpcio: some 30 MB unpacked), so the install takes a while."""
    return build(tmp, COUNTER, name, version, platforms=["x86_64"], extra_requirements=["grpcio"])


def bulky_source(size: int, seed: int) -> str:
    """The counter, carrying ``size`` bytes of incompressible data: a package slow to send."""
    data = base64.b64encode(random.Random(seed).randbytes(size * 3 // 4)).decode()
    return f'BALLAST = "{data}"\n' + COUNTER


def wait_until(check: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> object:
    """``check()``'s first truthy answer; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        time.sleep(every)


def running_versions(device: Device, app: str) -> list[str]:
    """The versions of ``app`` whose processes are alive on the device, from their environment
    (APP_NAME, APP_VERSION the agent gives them): what runs, asking nothing of the agent."""
    found = []
    for pid in device.processes(LOGIN_UID):
        try:
            env = dict(v.split("=", 1) for v in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in v)
        except OSError:
            continue
        if env.get("APP_NAME") == app:
            found.append(env.get("APP_VERSION", "?"))
    return sorted(set(found))


def leftovers(device: Device) -> list[str]:
    """What deployments left half-done in the agent's folders: staging folders, releases without
    their release.json, venvs never completed, package uploads, files cut short."""
    script = (
        "cd " + shlex.quote(AGENT_HOME) + " 2>/dev/null || exit 0\n"
        "for d in apps/.incoming-*; do [ -e \"$d\" ] && echo \"$d\"; done\n"
        "for d in apps/*/releases/*; do [ -d \"$d\" ] && [ ! -e \"$d/release.json\" ] && echo \"$d\"; done\n"
        "for d in apps/*/venvs/*; do [ -d \"$d\" ] && [ ! -e \"$d/.complete\" ] && echo \"$d\"; done\n"
        "for d in uploads/pkg_*; do [ -e \"$d\" ] && echo \"$d\"; done\n"
        "find . -name '*.part' 2>/dev/null\n"
    )
    return device.run(script, user=LOGIN_USER).stdout.split()


def deployment_lock_free(device: Device) -> bool:
    """No deployment holds the device (the agent's lock, taken by ``prepare``)."""
    lock = shlex.quote(f"{AGENT_HOME}/run/deploy.lock")
    return device.run(f"[ ! -e {lock} ] || flock -n {lock} true", user=LOGIN_USER, check=False).returncode == 0


def mid_install(device: Device, app: str) -> bool:
    """An install of ``app`` is under way: its staging folder or a release still without release.json."""
    script = (f"cd {shlex.quote(AGENT_HOME)}/apps 2>/dev/null || exit 1\n"
              "for d in .incoming-* " + shlex.quote(app) + "/releases/*; do\n"
              "  [ -d \"$d\" ] && [ ! -e \"$d/release.json\" ] && exit 0\ndone\nexit 1\n")
    return device.run(script, user=LOGIN_USER, check=False).returncode == 0


def agent_answer(device: Device, command: str, args: dict[str, object]) -> dict[str, object]:
    answer: dict[str, object] = json.loads(
        device.run(f"{AGENT} {command} {shlex.quote(json.dumps(args))}", user=LOGIN_USER).stdout)
    return answer


def supervisor_running(device: Device) -> bool:
    """Asked without starting it (``status`` would start it when apps are meant to run)."""
    return agent_answer(device, "supervisor", {"action": "status"}).get("supervisor") is not None


def boot_command(device: Device) -> str:
    """The command of the @reboot entry the agent put in the login user's crontab."""
    table = device.run("crontab -l", user=LOGIN_USER).stdout
    [line] = [x for x in table.splitlines() if x.startswith("@reboot ")]
    return line.removeprefix("@reboot ").replace("\\%", "%")


def boot(device: Device) -> None:
    """What cron does at boot: run the @reboot command as the user, with cron's environment."""
    env = f"env -i HOME=/home/{LOGIN_USER} LOGNAME={LOGIN_USER} SHELL=/bin/sh PATH=/usr/bin:/bin"
    device.run(f"{env} sh -c {shlex.quote(boot_command(device))}", user=LOGIN_USER)


def cli(rig: Rig, home: Path, *args: str) -> subprocess.Popen[str]:
    """``sdv-studio ARGS`` run on the rig's workstation with its own SDV Studio home: one
    workstation of several, each with its own records, known hosts and processes."""
    env = [f"SDV_STUDIO_HOME={home}", f"PYTHONPATH={ROOT}"]
    argv = rig.workstation_argv("env", *env, sys.executable, "-m", "sdv_studio", *args)
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def device_args(rig: Rig, device: Device) -> list[str]:
    return ["--device", f"{rig.user}@{device.ip}", "--identity", str(rig.key_path), "--accept-new-host-keys"]


@dataclass
class Timeline:
    """What versions of an app run on a device, sampled from its processes every ``every`` seconds
    in a thread of its own: ``spans`` is [(seconds from start, versions)] at each change."""

    device: Device
    app: str
    every: float = 0.05
    spans: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Timeline:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            now = tuple(running_versions(self.device, self.app))
            if not self.spans or self.spans[-1][1] != now:
                self.spans.append((time.monotonic() - self.started, now))
            self._stop.wait(self.every)

    def summary(self, since: float, until: float) -> str:
        """What ran between two ``time.monotonic()`` moments, in seconds from ``since``:
        ``1.0.0 to 2.3s, none to 2.6s, 2.0.0 to 4.0s``."""
        origin = since - self.started
        parts: list[str] = []
        for i, (at, versions) in enumerate(self.spans):
            end = self.spans[i + 1][0] if i + 1 < len(self.spans) else until - self.started
            if end <= origin or at >= until - self.started:
                continue
            parts.append(f"{'+'.join(versions) or 'none'} to {end - origin:.1f}s")
        return ", ".join(parts) or "nothing sampled"
