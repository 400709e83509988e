"""One device's deployment, stage by stage: compatibility, transfer, install, KUKSA, start, health.

Every failure becomes a DeployError with a message a person can act on; the agent's health
gate guarantees that a failed new version leaves the previous one running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.deploy.advertise import plan_advert
from sdv_studio.core.deploy.agent_client import AgentCallError, AgentClient, AgentUnavailable, connect_agent
from sdv_studio.core.deploy.kuksa_wiring import Wiring, choose, device_brokers, start_fallback_broker
from sdv_studio.core.deploy.local import LocalConnection, is_local
from sdv_studio.core.deploy.orchestrator import DeployError, DeviceJob, JobOutcome, StepReporter
from sdv_studio.core.deploy.package_file import PackageFile, major_minor
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.deploy.transfer import prepare_args, send_package
from sdv_studio.core.deploy.uploads import TransferStalled
from sdv_studio.core.ssh.connection import SshConnection, connect
from sdv_studio.core.ssh.errors import SshError
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust


@dataclass(frozen=True)
class DeployOptions:
    hot_swap: bool | None = None  # None: as the package's deployment.hotSwap says
    rollback: bool = True
    broker: str | None = None  # HOST:PORT; None = detect, else the fallback broker
    grace_seconds: float = 3.0
    health_timeout: float = 30.0
    connect_timeout: float = 15.0
    # Seconds without progress before a transfer or a quick agent call counts as a lost device.
    stall_timeout: float = 20.0


@asynccontextmanager
async def agent_session(target: SshTarget, trust: HostKeyTrust, timeout: float, command: str = "info",
                        args: dict[str, Any] | None = None) -> AsyncIterator[tuple[AgentClient, dict[str, Any]]]:
    """A connection with an up-to-date agent on the other end (this computer needs no SSH), and
    the agent's answer to a first ``command`` (info unless said otherwise)."""
    async with AsyncExitStack() as stack:
        conn: SshConnection | LocalConnection
        if is_local(target):
            conn = LocalConnection()
        else:
            conn = await stack.enter_async_context(connect(target, trust, timeout=timeout))
        agent, answer = await connect_agent(conn, timeout, command, args)
        stack.push_async_callback(agent.close)  # before the connection closes: the session ends cleanly
        yield agent, answer


async def agent_answer(target: SshTarget, trust: HostKeyTrust, timeout: float, command: str,
                       args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Connect, run one agent command, disconnect: one round trip when the agent is up to date."""
    async with agent_session(target, trust, timeout, command, args) as (_agent, answer):
        return answer


def check_compatible(package: PackageFile, info: dict[str, Any], runtime: str) -> None:
    """Refuses, with what to do instead, a device the package cannot run on."""
    props = info["properties"]
    arch, python = str(props.get("arch")), str(props.get("python"))
    if tuple(int(x) for x in major_minor(python).split(".")) < (3, 8):  # the agent's own need
        raise DeployError(f"the device has Python {python}; SDV Studio needs 3.8 or newer there")
    _check_arch(package, arch)
    if runtime == "docker":  # the image brings its own Python; its Dockerfile picks the wheels for it
        if props.get("runtime") not in ("docker", "both"):
            raise DeployError("the package runs in Docker but this user cannot reach a Docker engine on the device "
                              "(add the user to the docker group, or package with --runtime native)")
        return
    if package.wheel_sets:
        _check_wheel_set(package, arch, python)
        return
    wanted = str(package.manifest.get("pythonVersion", ""))  # format 1: wheels for one Python
    if any(n.startswith("wheels/") for n in package.sums) and wanted and major_minor(python) != wanted:
        raise DeployError(f"the package was built for Python {wanted} but the device has Python {python}; "
                          f"package it again with --python {major_minor(python)}")


def _check_arch(package: PackageFile, arch: str) -> None:
    compiled = any(n.startswith("wheels/") and not n.startswith("wheels/any/") for n in package.sums)
    platforms = [str(p) for p in package.manifest.get("platforms") or []]
    if compiled and arch not in platforms:
        raise DeployError(f"the package carries wheels for {', '.join(platforms)} but the device is {arch}; "
                          f"package it again with --platform {arch}")


def _check_wheel_set(package: PackageFile, arch: str, python: str) -> None:
    minor = major_minor(python)
    record = package.wheel_set(python, arch)
    if record is None:
        pythons = [str(p) for p in package.manifest.get("pythonVersions") or []]
        wider = ",".join(sorted({*pythons, minor}, key=lambda v: tuple(int(x) for x in v.split("."))))
        raise DeployError(f"the package carries wheels for Python {', '.join(pythons)} but the device has "
                          f"Python {python}; package it again with --python {wider}")
    if record.get("error"):
        raise DeployError(f"{record['error']}; use the Docker runtime (package with --runtime docker), "
                          f"or pin a version that supports Python {minor}")


def agent_failure(exc: AgentCallError) -> DeployError:
    """The agent's refusal, with the app's log tail and what it did about the old version."""
    answer = exc.answer
    rolled_back = bool(answer.get("rolledBack"))
    message = str(exc)
    if answer.get("rolledBackTo"):
        message += f"; rolled back to {answer['rolledBackTo']}, which is running"
    elif answer.get("mode") == "hot-swap" and answer.get("previous"):
        message += f"; {answer['previous']} kept running"
    return DeployError(message, logs=[str(line) for line in answer.get("logTail") or []], rolled_back=rolled_back)


@asynccontextmanager
async def deploy_errors(target: SshTarget) -> AsyncIterator[None]:
    try:
        yield
    except AgentCallError as exc:
        raise agent_failure(exc) from exc
    except (SshError, AgentUnavailable, TransferStalled) as exc:
        raise DeployError(str(exc)) from exc
    except TimeoutError as exc:
        raise DeployError(f"{target.label}: the device stopped answering") from exc


def native_job(target: SshTarget, trust: HostKeyTrust, package: PackageFile, options: DeployOptions) -> DeviceJob:
    async def job(step: StepReporter) -> JobOutcome:
        await step.stage(Stage.COMPATIBILITY)
        async with deploy_errors(target), agent_session(target, trust, options.connect_timeout,
                                                        "prepare", prepare_args(package)) as (agent, info):
            check_compatible(package, info, "native")

            await step.stage(Stage.TRANSFER)
            advert = await plan_advert(info, target)
            sent = await send_package(agent, package, info, options.stall_timeout, extra=advert.files)
            if sent.already_installed:
                await step.log("the device already holds this package; nothing to send")
            else:
                await step.log(f"sent {sent.files_sent} of {sent.files_total} files ({sent.bytes_sent} bytes)")

            await step.stage(Stage.INSTALL)
            wiring = choose(package.manifest, info, options.broker,
                            None if options.broker else await device_brokers(agent))
            source = {"packageId": package.package_id} if sent.already_installed else {"dir": sent.upload_dir}
            start = {"name": package.name, "hotSwap": options.hot_swap, "rollback": options.rollback,
                     "broker": wiring.broker, "mqtt": wiring.mqtt, "graceSeconds": options.grace_seconds,
                     "healthTimeout": options.health_timeout, "advertise": advert.args}
            timeout = options.grace_seconds + options.health_timeout + 900  # an offline pip install, a gate
            progress = _Progress(step, wiring)
            if wiring.start_fallback:
                # The broker must run before the app starts: install, start the broker, then the app.
                if not sent.already_installed:
                    await agent.call("install", source, timeout=timeout, on_progress=progress)
                await progress.kuksa()
                await start_fallback_broker(agent, package.manifest, info, with_mqtt=wiring.with_mqtt,
                                            catalogue=package.entries.get("support/vss.json"))
                await progress.start()
                started = await agent.call("start", {**start, "packageId": package.package_id}, timeout=timeout,
                                           on_progress=progress)
            else:  # one call: install, start, health gate
                started = await agent.call("deploy", {**source, **start}, timeout=timeout, on_progress=progress)
            previous = started.get("previous")
            if line := advert.outcome(started.get("advertised")):
                await step.log(line)
        note = "already running" if started.get("alreadyRunning") else f"running ({started.get('mode', 'started')})"
        return JobOutcome(message=f"{package.name} {package.version} {note}", runtime="native",
                          previous_version=str(previous) if previous else None)

    return job


class _Progress:
    """Turns the agent's progress lines into the guide's stages, each once and in order."""

    def __init__(self, step: StepReporter, wiring: Wiring) -> None:
        self.step, self.wiring = step, wiring
        self.reached = Stage.INSTALL

    async def __call__(self, event: dict[str, Any]) -> None:
        what = event.get("progress")
        if what == "requirements":
            await self.step.log("creating the app's environment: installing its requirements offline")
        elif what == "installed":
            already = "already installed" if event.get("alreadyInstalled") else "installed"
            await self.step.log(f"release {event.get('release')} {already}")
            if not self.wiring.start_fallback:  # else the caller starts the broker first
                await self.kuksa()
                await self.start()
        elif what == "started":
            await self.start()
            await self._reach(Stage.HEALTH, f"process {event.get('pid')} started; waiting for its health gate")

    async def kuksa(self) -> None:
        await self._reach(Stage.KUKSA, f"databroker {self.wiring.broker} ({self.wiring.how})")

    async def start(self) -> None:
        await self._reach(Stage.START)

    async def _reach(self, stage: Stage, log: str | None = None) -> None:
        if stage.progress > self.reached.progress:
            self.reached = stage
            await self.step.stage(stage)
            if log:
                await self.step.log(log)
