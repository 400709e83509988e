"""Deploying a package natively, through the device's agent: compatibility, transfer, install, KUKSA,
start and the agent's health gate, which guarantees that a failed new version leaves the previous
one running. Every failure becomes a DeployError with a message a person can act on.
"""

from __future__ import annotations

from typing import Any

from sdv_studio.core.deploy.advertise import plan_advert
from sdv_studio.core.deploy.agent_link.session import agent_session, deploy_errors
from sdv_studio.core.deploy.agent_link.transfer import prepare_args, send_package
from sdv_studio.core.deploy.compatibility import check_compatible
from sdv_studio.core.deploy.kuksa_wiring import Wiring, choose, device_brokers, recognise, start_fallback_broker
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.orchestrator import DeviceJob, JobOutcome, StepReporter
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.security.access import data_access_of
from sdv_studio.core.deploy.security.delivery import app_access, credential_env, place_ca, signing_key
from sdv_studio.core.deploy.security.report import native_security, outcome_note
from sdv_studio.core.deploy.security.sandbox import isolates, native_shortfalls, refuse_partial, sandbox_of
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust


def native_job(target: SshTarget, trust: HostKeyTrust, package: PackageFile, options: DeployOptions) -> DeviceJob:
    async def job(step: StepReporter) -> JobOutcome:
        await step.stage(Stage.COMPATIBILITY)
        async with deploy_errors(target), agent_session(target, trust, options.connect_timeout,
                                                        "prepare", prepare_args(package)) as (agent, info):
            check_compatible(package, info, "native")
            sandbox = sandbox_of(package.manifest)
            limits = (package.manifest.get("deployment") or {}).get("resourceLimits") or {}
            refuse_partial(sandbox, native_shortfalls(info, bool(limits)))

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
            key = await signing_key()
            wiring = await recognise(agent, wiring, info, key)
            access = app_access(package, wiring.broker, ours=wiring.ours, key=key, token=options.broker_token,
                                ca_pem=options.broker_ca)
            source = {"packageId": package.package_id} if sent.already_installed else {"dir": sent.upload_dir}
            start = {"name": package.name, "hotSwap": options.hot_swap, "rollback": options.rollback,
                     "broker": wiring.broker, "mqtt": wiring.mqtt, "graceSeconds": options.grace_seconds,
                     "healthTimeout": options.health_timeout, "advertise": advert.args,
                     "env": credential_env(access, await place_ca(agent, info, access)),
                     "sandbox": {"isolate": isolates(sandbox)}}
            timeout = options.grace_seconds + options.health_timeout + 900  # an offline pip install, a gate
            progress = _Progress(step, wiring)
            if wiring.start_fallback:
                # The broker must run before the app starts: install, start the broker, then the app.
                if not sent.already_installed:
                    await agent.call("install", source, timeout=timeout, on_progress=progress)
                await progress.kuksa()
                await start_fallback_broker(agent, package.manifest, info, with_mqtt=wiring.with_mqtt,
                                            catalogue=package.entries.get("support/vss.json"), key=key)
                await progress.start()
                started = await agent.call("start", {**start, "packageId": package.package_id}, timeout=timeout,
                                           on_progress=progress)
            else:  # one call: install, start, health gate
                started = await agent.call("deploy", {**source, **start}, timeout=timeout, on_progress=progress)
            previous = started.get("previous")
            if line := advert.outcome(started.get("advertised")):
                await step.log(line)
        note = "already running" if started.get("alreadyRunning") else f"running ({started.get('mode', 'started')})"
        security = native_security(sandbox, data_access_of(package.manifest), access,
                                   (started.get("instance") or {}).get("limits") or {})
        return JobOutcome(message=f"{package.name} {package.version} {note}{outcome_note(security)}",
                          runtime="native", previous_version=str(previous) if previous else None, security=security)

    return job


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
