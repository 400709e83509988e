"""Scripted engines with a realistic bench: for screenshots and demos. GUI tests use it only for the
wizard's own logic (steps, cancel, retry); what an engine or a device answers is tested against real
ones (rig devices, This computer), never against the answers invented here.

Packaging stays real. Discovery and brokers answer from a fixed bench; deployments run through the
real orchestrator (sdv_studio.core.deploy) with scripted device jobs, so progress, cancellation and
records behave as they do for real devices. The monitor streams the core's events with invented
figures and a low beam toggling (the README's Monitor picture is the rig test's, with real data).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sdv_studio.core.deploy.orchestrator import (
    DeployError,
    DeploymentRun,
    DeviceJob,
    DeviceTask,
    JobOutcome,
    StepReporter,
    new_deployment_id,
)
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.service import package_hot_swap
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.handoff.request import Handoff, handoff_from_fields
from sdv_studio.core.monitor import LinkDown, LinkUp, MetricsSample, MonitorEvent, SignalUpdate, Subscribed
from sdv_studio.core.packaging.store import PackageStore
from sdv_studio.core.scan_defaults import ScanDefaults
from sdv_studio.gui import samples
from sdv_studio.gui.adapters import Engines
from sdv_studio.gui.adapters.deployer import (
    AppOnDevice,
    DeployRun,
    DeploySettings,
    OrchestratedRun,
    StagedOnDevice,
    cancelled_text,
)
from sdv_studio.gui.adapters.discovery import (
    AuthenticationRequired,
    Device,
    DeviceFound,
    ProbeOptions,
    ScanEvent,
    ScanProgress,
    UnknownHostKey,
    this_computer,
)
from sdv_studio.gui.adapters.packager import CorePackager
from sdv_studio.models.broker import KuksaBrokerInfo
from sdv_studio.models.deployment import Deployment, DeviceDeployment
from sdv_studio.models.metrics import DeviceMetrics

# A multi-file prototype as the playground hands a Velocitas app over (the hand-off screenshot).
PLAYGROUND_TREE = {
    "app/AppManifest.json": '{"manifestVersion": "v3", "name": "SampleApp", "interfaces": []}\n',
    "app/requirements.txt": "velocitas-sdk==0.15.4\n",
    "app/src/main.py": samples.PLAYGROUND_DEFAULT,
    "app/src/beam.py": 'def toggled(is_on: bool) -> bool:\n    """The low beam\'s next state."""\n'
                       "    return not is_on\n",
}


def demo_handoff() -> Handoff:
    return handoff_from_fields({"files": PLAYGROUND_TREE, "prototypeName": "Low Beam Blinker", "vssVersion": "4.0"},
                               "https://playground.digital.auto")


FINGERPRINT = "SHA256:q4Vt1oWkqJ0m2cW6k3t2XbS1mX0eV1r3hTqW8o9yZ0c"
_SEEN = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # a scan a moment ago

BENCH = [
    Device(id="orin-bench-01", name="orin-bench-01", ip="192.168.7.21", type="jetson-orin", user="sdv",
           runtime="both", architecture="arm64", gpu=True, kuksa=True, memory="32GB", storage="48GB",
           os="Ubuntu 22.04 (JetPack 6.0)", python="3.10.12", last_seen=_SEEN),
    Device(id="orin-car-02", name="orin-car-02", ip="192.168.7.22", type="jetson-orin", user="sdv",
           runtime="docker", architecture="arm64", gpu=True, kuksa=False, memory="16GB", storage="21GB",
           os="Ubuntu 20.04 (JetPack 5.1)", python="3.8.10", last_seen=_SEEN),
    Device(id="nuc-gateway", name="nuc-gateway", ip="192.168.7.30", user="sdv", runtime="both",
           memory="16GB", storage="212GB", os="Debian 12", python="3.11.2", last_seen=_SEEN),
    Device(id="rpi5-hmi", name="rpi5-hmi", ip="192.168.7.41", user="sdv", runtime="native", architecture="arm64",
           memory="8GB", storage="54GB", os="Raspberry Pi OS 12", python="3.11.2", last_seen=_SEEN),
    Device(id="s32g-proto", name="s32g-proto", ip="192.168.7.52", type="automotive-prototype", user="root",
           runtime="–", architecture="arm64", memory="4GB", storage="6GB", os="Yocto 4.0", python="3.8.13",
           compatible=False, reason="python3 has no venv module and no container engine", last_seen=_SEEN),
    *(Device(id=ip, name=ip, ip=ip, type="unknown", status="error", architecture="unknown", runtime="–",
             compatible=False, key_type="ssh-ed25519", fingerprint=fingerprint, last_seen=_SEEN,
             reason=f"{ip}: new host key (ssh-ed25519 {fingerprint}); compare it with the device's and trust it "
                    "with Trust…")
      for ip, fingerprint in (("192.168.7.60", FINGERPRINT),
                              ("192.168.7.61", "SHA256:Zr0Jm3cJb2hLwE1o8rS7yQvXf5nA4tK9uP6iD2gH1sM"),
                              ("192.168.7.62", "SHA256:7xQm1VbN3kC8rT5yW2eL9aS4dF6gH0jK1zX3cV5bN7m"))),
]


class ScriptedDiscovery:
    def __init__(self, devices: list[Device] | None = None, delay: float = 0.02) -> None:
        self.devices = list(BENCH if devices is None else devices)
        self.delay = delay
        self.trusted: set[str] = set()
        self.password_hosts: set[str] = set()
        self.remembered: dict[str, str] = {}
        self.saved_devices: list[Device] = []
        self.defaults = ScanDefaults(scan_on_entry=False)  # a demo scans when asked to

    async def scan(self, cidrs: list[str], options: ProbeOptions) -> AsyncIterator[ScanEvent]:
        total = len(self.devices)
        for i, device in enumerate(self.devices):
            yield ScanProgress(i, total, f"Probing {device.ip}")
            await asyncio.sleep(self.delay)
            yield DeviceFound(device)
        yield ScanProgress(total, total, "done")

    async def probe(self, address: str, options: ProbeOptions) -> Device:
        await asyncio.sleep(self.delay)
        if address not in self.trusted:
            raise UnknownHostKey(address, options.port, "ssh-ed25519", FINGERPRINT)
        if address in self.password_hosts and not options.password:
            raise AuthenticationRequired(address, options.user, f"{options.user}@{address}: key not accepted")
        if options.remember_password and options.password:
            self.remembered[address] = options.password
        return Device(id=address, name=f"manual {address}", ip=address, user=options.user, port=options.port,
                      memory="8GB", storage="20GB", last_seen=_SEEN, sources=("probe",))

    async def trust_host_key(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        self.trusted.add(host)

    def this_computer(self) -> Device:
        return this_computer()

    async def probe_local(self) -> Device:
        await asyncio.sleep(self.delay)
        return replace(this_computer(), runtime="native", compatible=True, reason="", sources=("probe",))

    async def saved(self, options: ProbeOptions) -> AsyncIterator[ScanEvent]:
        for device in self.saved_devices:
            await asyncio.sleep(self.delay)
            yield DeviceFound(device)

    def load_defaults(self) -> ScanDefaults:
        return self.defaults

    def save_defaults(self, defaults: ScanDefaults) -> None:
        self.defaults = defaults

    def ssh_keys(self) -> list[str]:
        return ["~/.ssh/id_ed25519", "~/.ssh/id_rsa"]


class ScriptedBrokers:
    async def detect(self, devices: list[Device]) -> AsyncIterator[KuksaBrokerInfo]:
        for device in devices:
            host = "127.0.0.1" if device.local else device.ip
            await asyncio.sleep(0.01)
            if host.endswith(".21") or host == "127.0.0.1":
                yield KuksaBrokerInfo(host=host, port=55555, name="databroker", version="0.6.0", local_only=True,
                                      response_time=3.4, vss_version="4.0", apis=["kuksa.val.v2", "kuksa.val.v1"])
                yield KuksaBrokerInfo(host=host, port=1883, kind="mqtt", response_time=1.1)
            elif host.endswith(".30"):
                yield KuksaBrokerInfo(host=host, port=55555, name="databroker", version="0.4.4", response_time=5.9,
                                      vss_version="4.0", apis=["kuksa.val.v1", "sdv.databroker.v1"], tls=True,
                                      auth=True)

    async def test(self, host: str, port: int) -> KuksaBrokerInfo | None:
        return KuksaBrokerInfo(host=host, port=port, name="databroker", version="0.6.0", response_time=2.0,
                               apis=["kuksa.val.v2", "kuksa.val.v1"])

    async def test_on(self, device: Device, port: int) -> KuksaBrokerInfo | None:
        found = [b async for b in self.detect([device]) if b.port == port]
        return found[0] if found else None


@dataclass
class ScriptedDeployer:
    """Device jobs that walk the six stages; ``plan`` scripts outcomes per attempt: ok, fail or hang.
    A scheduled deployment stops after the install, staged, as a moving vehicle would leave it."""

    records: DeploymentRecords
    plan: dict[str, list[str]] = field(default_factory=dict)
    step: float = 0.02
    attempts: dict[str, int] = field(default_factory=dict)
    apps: dict[str, AppOnDevice] = field(default_factory=dict)  # device id -> what it runs, as scripted
    packages: list[Path] = field(default_factory=list)  # what each run was given, for tests

    async def start(self, package: Path, devices: list[Device], settings: DeploySettings) -> DeployRun:
        self.packages.append(package)
        # The update mode as the engine settles it: the deployment's choice, else the package's.
        hot_swap = package_hot_swap(PackageFile(package)) if settings.hot_swap is None else settings.hot_swap
        deployment = Deployment(deployment_id=new_deployment_id(), package_id="pkg_0123456789abcdef",
                                app_name=package.name, app_version="1.0.0",
                                deployment_mode="hot-swap" if hot_swap else "standard",
                                devices=[DeviceDeployment(device_id=d.id) for d in devices])
        # Real devices never finish in step; neither do scripted ones.
        tasks = [DeviceTask(d.id, d.address(), self._job(d, settings, self.step * (1 + 0.4 * i)))
                 for i, d in enumerate(devices)]
        return OrchestratedRun(DeploymentRun(deployment, tasks, self.records, plan=settings.waves).start())

    def _job(self, device: Device, settings: DeploySettings, pace: float) -> DeviceJob:
        attempt = self.attempts.get(device.id, 0)
        self.attempts[device.id] = attempt + 1
        outcomes = self.plan.get(device.id, ["ok"])
        outcome = outcomes[min(attempt, len(outcomes) - 1)]
        lines = {
            Stage.COMPATIBILITY: f"{device.architecture}, Python {device.python or '3'}: compatible",
            Stage.TRANSFER: "sent 14 of 31 files (2.1 MB); 17 unchanged",
            Stage.INSTALL: "virtualenv ready, 23 wheels installed offline",
            Stage.KUKSA: f"databroker {settings.broker or '127.0.0.1:55555'} (detected on the device)",
            Stage.START: "started with systemd --user, pid 4242",
            Stage.HEALTH: "healthy after 3.0 s",
        }

        async def job(reporter: StepReporter) -> JobOutcome:
            for stage, line in lines.items():
                if settings.schedule is not None and stage is Stage.START:
                    return self._staged(device, settings, pace)
                await reporter.stage(stage)
                await asyncio.sleep(pace)
                if outcome == "hang" and stage is Stage.INSTALL:
                    await asyncio.sleep(3600)
                if outcome == "fail" and stage is Stage.HEALTH:
                    self.apps[device.id] = AppOnDevice("running", "0.9.0", "native · pid 3977")
                    raise DeployError("health check failed: the app exited with code 1; rolled back to 0.9.0",
                                      logs=["Traceback (most recent call last):",
                                            "  File \"app/main.py\", line 7, in <module>",
                                            "grpc.aio.AioRpcError: StatusCode.UNAVAILABLE"], rolled_back=True)
                await reporter.log(line)
            self.apps[device.id] = AppOnDevice("running", "1.0.0", f"native · pid {4200 + len(self.apps)}")
            return JobOutcome(runtime="native", previous_version="0.9.0")

        return job

    def _staged(self, device: Device, settings: DeploySettings, pace: float) -> JobOutcome:
        assert settings.schedule is not None
        window = settings.schedule.window
        seen = f"local time {datetime.now().strftime('%H:%M')}" if window else "Vehicle.Speed 48.6"
        condition = window or str(settings.schedule.idle)
        staged = StagedOnDevice("1.0.0", condition, f"{seen} at {datetime.now().strftime('%H:%M:%S')}", False)
        self.apps[device.id] = AppOnDevice("running", "0.9.0", f"native · pid {4100 + len(self.apps)}", staged)
        return JobOutcome(message=f"app 1.0.0 staged: starts {settings.schedule.describe()}; 0.9.0 keeps running "
                          "until then", runtime="native", previous_version="0.9.0", staged=True)

    async def cancel_staged(self, device: Device, app: str) -> str:
        await asyncio.sleep(self.step)
        now = self.apps.get(device.id)
        if now is None or now.staged is None:
            raise DeployError(f"{app} has no staged release")
        self.apps[device.id] = replace(now, staged=None)
        return cancelled_text(app, {"version": now.staged.version, "condition": now.staged.condition})

    async def status(self, device: Device, app: str) -> AppOnDevice:
        await asyncio.sleep(self.step)
        return self.apps.get(device.id, AppOnDevice(AppOnDevice.ABSENT))

    def _set(self, device: Device, **changes: Any) -> None:
        self.apps[device.id] = replace(self.apps.get(device.id, AppOnDevice("stopped", "1.0.0")), **changes)

    async def start_app(self, device: Device, app: str) -> None:
        self._set(device, status="running")

    async def stop(self, device: Device, app: str) -> None:
        self._set(device, status="stopped", detail="native")

    async def rollback(self, device: Device, app: str) -> str:
        self._set(device, status="running", version="0.9.0")
        return "0.9.0"

    async def uninstall(self, device: Device, app: str) -> None:
        self.apps.pop(device.id, None)

    async def logs(self, device: Device, app: str, lines: int = 200) -> list[str]:
        return [f"{app} started on {device.name}", "Light value  True", "Light value  False"]

    async def follow_logs(self, device: Device, app: str, lines: int = 200) -> AsyncIterator[str]:
        for line in await self.logs(device, app, lines):
            yield line
        for tick in range(10_000):  # a new line now and then, as a running app writes them
            await asyncio.sleep(self.step * 10)
            yield f"Light value  {tick % 2 == 0}"


LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"


@dataclass
class ScriptedMonitor:
    """The playground app's figures and its low beam toggling on each device, every ``step`` seconds;
    with three devices or more, the second one's link drops from ``drop[0]`` to ``drop[1]`` seconds
    after the start, so the view shows a gap and a badge. Signals asked for besides follow a sine."""

    step: float = 0.1
    drop: tuple[float, float] = (4.0, 9.0)

    async def watch(self, devices: list[Device], app: str | None,
                    signals: tuple[str, ...]) -> AsyncIterator[MonitorEvent]:
        started = time.time()
        paths = (LOW_BEAM, *signals)
        dropping = devices[1].id if len(devices) >= 3 else None
        down = False
        for device in devices:
            yield LinkUp(device.id)
            yield Subscribed(device.id, "127.0.0.1:55555", paths, ())
            yield MetricsSample(device.id, self._metrics(device, devices.index(device), app, started, 120))
        ticks, lamps = 0, dict.fromkeys((d.id for d in devices), False)
        while True:
            await asyncio.sleep(self.step)
            ticks += 1
            now = time.time()
            if dropping and not down and self.drop[0] <= now - started < self.drop[1]:
                down = True
                yield LinkDown(dropping, "no answer from the device for 5s", 2.0)
            elif down and dropping and now - started >= self.drop[1]:
                down = False
                yield LinkUp(dropping)
                yield Subscribed(dropping, "127.0.0.1:55555", paths, ())
            for index, device in enumerate(devices):
                if down and device.id == dropping:
                    continue
                phase = now - started + 0.4 * index
                lamp = int(phase / 2.5) % 2 == 0
                if lamp != lamps[device.id] or ticks == 1:
                    lamps[device.id] = lamp
                    yield SignalUpdate(device.id, LOW_BEAM, lamp, now, now)
                for n, path in enumerate(signals):
                    yield SignalUpdate(device.id, path, round(50 + 40 * math.sin(phase / 3 + n), 2), now, now)
                if int(now) != int(now - self.step):
                    yield MetricsSample(device.id, self._metrics(device, index, app, now, 1))

    @staticmethod
    def _metrics(device: Device, index: int, app: str | None, now: float, samples: int) -> DeviceMetrics:
        def cpu(t: float) -> float:
            return round(2.5 + index * 0.6 + 1.2 * math.sin(t / 7 + index) + 0.4 * math.sin(t * 1.3), 2)

        def rss(t: float) -> int:
            return int((38 + 2 * index + math.sin(t / 40)) * 2**20)

        history = [{"t": now - k, "cpu": cpu(now - k) / 4, "memory": 31.0,
                    "apps": {app or "app": {"cpu": cpu(now - k), "rss": rss(now - k), "status": "running"}}}
                   for k in range(samples - 1, -1, -1)]
        apps = [{"name": app, "kind": "app", "status": "running", "restarts": index % 2, "uptime": 1800.0 + 97 * index,
                 "rss": rss(now), "cpu_usage": cpu(now), "memory_usage": 7.5, "memoryLimit": 512 * 2**20,
                 "metered": True, "signal_updates": 3600, "signalUpdatesPerSecond": 0.8, "errors": 0,
                 "kuksa_latency": {"p50": 1.4 + 0.1 * index, "p95": 3.2 + 0.3 * index, "calls": 120, "window": 60.0}}
                ] if app else []
        return DeviceMetrics.from_agent(device.id, {
            "cpu": {"percent": cpu(now) / 4, "count": 4}, "memory": {"percent": 31.0},
            "disk": {"path": "/home/sdv", "percent": 41.0}, "apps": apps, "history": history, "interval": 1.0,
            "timestamp": now})


def demo_engines(root: Path, devices: list[Device] | None = None) -> Engines:
    return Engines(packager=CorePackager(PackageStore(root / "packages")), discovery=ScriptedDiscovery(devices),
                   brokers=ScriptedBrokers(), deployer=ScriptedDeployer(DeploymentRecords(root / "deployments")),
                   monitor=ScriptedMonitor())
