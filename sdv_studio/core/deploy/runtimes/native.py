"""Deploying a package natively, through the device's agent: compatibility, transfer, install, KUKSA,
start and the agent's health gate, which guarantees that a failed new version leaves the previous
one running. Every failure becomes a DeployError with a message a person can act on.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from sdv_studio.core.deploy.advertise import plan_advert
from sdv_studio.core.deploy.agent_link.client import AgentCallError, AgentClient, AgentUnavailable
from sdv_studio.core.deploy.agent_link.deploy_lock import locked_session
from sdv_studio.core.deploy.agent_link.local_target import is_local
from sdv_studio.core.deploy.agent_link.session import deploy_errors
from sdv_studio.core.deploy.agent_link.transfer import send_package
from sdv_studio.core.deploy.compatibility import check_compatible
from sdv_studio.core.deploy.kuksa_wiring import Wiring, choose, device_brokers, recognise, start_fallback_broker
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.orchestrator import DeployError, DeviceJob, JobOutcome, StepReporter
from sdv_studio.core.deploy.ota_pin import check_not_pinned
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.runtimes.native_staged import stage_release
from sdv_studio.core.deploy.security.access import data_access_of
from sdv_studio.core.deploy.security.delivery import app_access, credential_env, place_ca, signing_key
from sdv_studio.core.deploy.security.report import native_security, outcome_note
from sdv_studio.core.deploy.security.sandbox import isolates, native_shortfalls, refuse_partial, sandbox_of
from sdv_studio.core.deploy.security.tokens import SigningKey
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.ssh.errors import SshError
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust


def native_job(target: SshTarget, trust: HostKeyTrust, package: PackageFile, options: DeployOptions) -> DeviceJob:
    async def job(step: StepReporter) -> JobOutcome:
        await step.stage(Stage.COMPATIBILITY)
        async with deploy_errors(target), AsyncExitStack() as session:
            agent, info = await locked_session(session, target, trust, package, options, step)
            check_compatible(package, info, "native")
            current = info.get("current") or {}
            check_not_pinned(package, current.get("version"), current.get("otaEnabled", True), options.force)
            sandbox = sandbox_of(package.manifest)
            limits = (package.manifest.get("deployment") or {}).get("resourceLimits") or {}
            refuse_partial(sandbox, native_shortfalls(info, bool(limits)))

            await step.stage(Stage.TRANSFER)
            advert = await plan_advert(info, target, options.advertise)
            sent = await send_package(agent, package, info, options.stall_timeout, extra=advert.files)
            if sent.already_installed:
                await step.log("the device already holds this package; nothing to send")
            else:
                await step.log(f"sent {sent.files_sent} of {sent.files_total} files ({sent.bytes_sent} bytes)")

            await step.stage(Stage.INSTALL)
            wiring = choose(package.manifest, info, options.broker,
                            None if options.broker else await device_brokers(agent))
            key = await signing_key()
            wiring = await recognise(agent, wiring, info, key)
            access = app_access(package, wiring.broker, ours=wiring.ours, key=key, token=options.broker_token,
                                ca_pem=options.broker_ca)
            source = {"packageId": package.package_id} if sent.already_installed else {"dir": sent.upload_dir}
            ca_path = await place_ca(agent, info, access)
            start = {"name": package.name, "hotSwap": options.hot_swap, "rollback": options.rollback,
                     "broker": wiring.broker, "mqtt": wiring.mqtt, "graceSeconds": options.grace_seconds,
                     "healthTimeout": options.health_timeout, "healthInterval": options.health_interval,
                     "advertise": advert.args, "env": credential_env(access, ca_path),
                     "sandbox": {"isolate": isolates(sandbox)},
                     "bootHook": not is_local(target)}  # this computer is no device to set up for boot
            if options.schedule is not None:
                return await stage_release(agent, package, info, wiring, source, start, ca_path, options.schedule,
                                           options, step, key)
            try:
                started = await _install_and_start(agent, package, info, wiring, source, start, options, step, key)
            except (AgentUnavailable, SshError, TimeoutError) as exc:
                # The device goes on without us (installs, starts, gates, rolls back): ask it how it ended.
                await session.aclose()
                return await _outcome_after_loss(exc, target, trust, package, options, step)
            if line := advert.outcome(started.get("advertised")):
                await step.log(line)
        previous = started.get("previous")
        note = "already running" if started.get("alreadyRunning") else f"running ({started.get('mode', 'started')})"
        if "bootHook" in started:
            note += f"; {_boot_note(started['bootHook'])}"
        security = native_security(sandbox, data_access_of(package.manifest), access,
                                   (started.get("instance") or {}).get("limits") or {})
        return JobOutcome(message=f"{package.name} {package.version} {note}{outcome_note(security)}",
                          runtime="native", previous_version=str(previous) if previous else None, security=security)

    return job


async def _install_and_start(agent: AgentClient, package: PackageFile, info: dict[str, Any], wiring: Wiring,
                             source: dict[str, Any], start: dict[str, Any], options: DeployOptions,
                             step: StepReporter, key: SigningKey) -> dict[str, Any]:
    """The agent's answer to starting the release (with its health gate) once installed."""
    timeout = options.grace_seconds + options.health_timeout + 900  # an offline pip install, a gate
    progress = _Progress(step, wiring)
    if not wiring.start_fallback:  # one call: install, start, health gate
        return await agent.call("deploy", {**source, **start}, timeout=timeout, on_progress=progress)
    # The broker must run before the app starts: install, start the broker, then the app.
    if "dir" in source:
        await agent.call("install", source, timeout=timeout, on_progress=progress)
    await progress.kuksa()
    await start_fallback_broker(agent, package.manifest, info, with_mqtt=wiring.with_mqtt,
                                catalogue=package.entries.get("support/vss.json"), key=key)
    await progress.start()
    return await agent.call("start", {**start, "packageId": package.package_id}, timeout=timeout,
                            on_progress=progress)


async def _outcome_after_loss(lost: Exception, target: SshTarget, trust: HostKeyTrust, package: PackageFile,
                              options: DeployOptions, step: StepReporter) -> JobOutcome:
    """The connection ended while the device installed or started the release: connect again once
    the device's deployment lock is free (the device has finished), and report what it runs."""
    await step.log(f"lost the device while it deployed ({lost}); asking it how that ended")
    try:
        async with AsyncExitStack() as session:
            agent, _info = await locked_session(session, target, trust, package, options, step)
            [app] = (await agent.call("status", {"name": package.name}, timeout=options.connect_timeout))["apps"]
    except (AgentCallError, AgentUnavailable, SshError, TimeoutError, ValueError) as exc:
        raise DeployError(f"{lost}; the device could not be asked afterwards ({exc}): check it with "
                          "sdv-studio status") from exc
    ours = str(app.get("release") or "").endswith("-" + package.package_id[4:12])
    if ours and app.get("status") == "running":
        return JobOutcome(message=f"{package.name} {package.version} running; the connection was lost while the "
                                  "device deployed it, and the device finished", runtime="native")
    runs = f"{app.get('version')} ({app.get('status')})" if app.get("version") else "nothing"
    raise DeployError(f"{lost}; the device did not finish this deployment: it runs {runs}")


def _boot_note(hook: Any) -> str:
    """What brings the app back after the device restarts (the agent's ``bootHook``)."""
    hook = hook if isinstance(hook, dict) else {}
    if hook.get("via") == "crontab":
        return "back after a reboot: crontab @reboot entry"
    if hook.get("via") == "systemd":
        return f"back after a reboot: systemd unit {hook.get('unit')}" + (
            f" ({hook['reason']})" if hook.get("reason") else "")
    return f"not restarted after a reboot: {hook.get('reason') or 'the device named no boot hook'}"


class _Progress:
    """Turns the agent's progress lines into the deployment stages (``Stage``), each once and in order."""

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
