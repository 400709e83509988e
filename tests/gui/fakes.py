"""Engines for GUI tests that need no network: scripted discovery, brokers and device jobs.

Deployments run through the real orchestrator (sdv_studio.core.deploy) with scripted device jobs,
so the Deploy page is tested against the engine's real event stream, cancellation and records.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from sdv_studio.core.deploy.orchestrator import (
    DeployError,
    DeploymentRun,
    DeviceTask,
    JobOutcome,
    StepReporter,
    new_deployment_id,
)
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.packaging.store import PackageStore
from sdv_studio.gui.adapters import Engines
from sdv_studio.gui.adapters.deployer import DeployRun, DeploySettings, OrchestratedRun
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

FINGERPRINT = "SHA256:q4Vt1oWkqJ0m2cW6k3t2XbS1mX0eV1r3hTqW8o9yZ0c"

BENCH = [
    Device(id="jetson-01", name="Jetson Orin (bench)", ip="10.99.0.11", type="jetson-orin", user="sdv",
           runtime="both", architecture="arm64", gpu=True, kuksa=True, memory="32GB", storage="41GB",
           os="Ubuntu 22.04", python="3.10.12", last_seen="2026-01-01T00:00:00Z"),
    Device(id="linux-02", name="linux-02", ip="10.99.0.12", user="sdv", runtime="native",
           memory="4GB", storage="12GB", os="Debian 12", python="3.11.2", last_seen="2026-01-01T00:00:00Z"),
    Device(id="ecu-03", name="Prototype ECU", ip="10.99.0.13", type="automotive-prototype", user="sdv",
           runtime=None, compatible=False, reason="python3 has no venv module", memory="1GB",  # type: ignore[arg-type]
           storage="2GB", os="Yocto", python="3.8.10", last_seen="2026-01-01T00:00:00Z"),
]


class FakeDiscovery:
    def __init__(self, devices: list[Device], delay: float = 0.02) -> None:
        self.devices = devices
        self.delay = delay
        self.trusted: set[str] = set()
        self.password_hosts: set[str] = set()
        self.remembered: dict[str, str] = {}
        self.scans = 0

    async def scan(self, cidrs: list[str], options: ProbeOptions) -> AsyncIterator[ScanEvent]:
        self.scans += 1
        total = len(self.devices)
        for i, device in enumerate(self.devices):
            yield ScanProgress(i, total, f"probing {device.ip}")
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
                      memory="8GB", storage="20GB", last_seen="2026-01-01T00:00:00Z", sources=("manual",))

    async def trust_host_key(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        self.trusted.add(host)

    def this_computer(self) -> Device:
        return this_computer()


class FakeBrokers:
    async def detect(self, hosts: list[str]) -> AsyncIterator[KuksaBrokerInfo]:
        for host in hosts:
            await asyncio.sleep(0.01)
            yield KuksaBrokerInfo(host=host, port=55555, name="databroker", version="0.6.0", response_time=3.2,
                                  vss_version="4.0", apis=["kuksa.val.v2", "kuksa.val.v1"])

    async def test(self, host: str, port: int) -> KuksaBrokerInfo | None:
        return KuksaBrokerInfo(host=host, port=port, name="databroker", version="0.6.0", response_time=2.0,
                               apis=["kuksa.val.v2"])


@dataclass
class FakeDeployer:
    """Scripted device jobs through the real orchestrator.

    ``plan`` maps a device id to outcomes for successive attempts: "ok", "fail" or "hang".
    """

    records: DeploymentRecords
    plan: dict[str, list[str]] = field(default_factory=dict)
    step: float = 0.02
    attempts: dict[str, int] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)

    async def start(self, package: Path, devices: list[Device], settings: DeploySettings) -> DeployRun:
        deployment = Deployment(deployment_id=new_deployment_id(), package_id="pkg_0123456789abcdef",
                                app_name="app", app_version="1.0.0",
                                devices=[DeviceDeployment(device_id=d.id) for d in devices])
        tasks = [DeviceTask(d.id, d.address(), self._job(d)) for d in devices]
        return OrchestratedRun(DeploymentRun(deployment, tasks, self.records).start())

    def _job(self, device: Device):  # type: ignore[no-untyped-def]
        attempt = self.attempts.get(device.id, 0)
        self.attempts[device.id] = attempt + 1
        outcomes = self.plan.get(device.id, ["ok"])
        outcome = outcomes[min(attempt, len(outcomes) - 1)]

        async def job(reporter: StepReporter) -> JobOutcome:
            for stage in (Stage.COMPATIBILITY, Stage.TRANSFER, Stage.INSTALL, Stage.KUKSA, Stage.START,
                          Stage.HEALTH):
                await reporter.stage(stage)
                await reporter.log(f"{stage.key}: ok")
                await asyncio.sleep(self.step)
                if outcome == "hang" and stage is Stage.INSTALL:
                    await asyncio.sleep(3600)
                if outcome == "fail" and stage is Stage.HEALTH:
                    raise DeployError("health check failed: /health answered 503", logs=["boom"], rolled_back=True)
            return JobOutcome(runtime="native")

        return job

    async def stop(self, device: Device, app: str) -> None:
        self.stopped.append(device.id)

    async def rollback(self, device: Device, app: str) -> str:
        return "0.9.0"

    async def logs(self, device: Device, app: str, lines: int = 200) -> list[str]:
        return [f"{app} started on {device.name}", "Light value True", "Light value False"]


def fake_engines(tmp: Path, devices: list[Device] | None = None) -> Engines:
    return Engines(packager=CorePackager(PackageStore(tmp / "packages")),
                   discovery=FakeDiscovery(list(BENCH if devices is None else devices)),
                   brokers=FakeBrokers(), deployer=FakeDeployer(DeploymentRecords(tmp / "deployments")))


# A whole program with no dependencies: installs in a blink, so tests measure the orchestration.
PLAIN_APP = '''\
import time


def main():
    while True:
        print("heartbeat", flush=True)
        time.sleep(5)


if __name__ == "__main__":
    main()
'''


