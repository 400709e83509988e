"""Staging a native release (``deploy --when idle`` / ``--at``): the agent's ``stage`` installs it and
leaves it to the device's staged-release watcher to start when the schedule holds.

SDV Studio's databroker is started now when the app is to use it, as a deployment would: the app finds
it when the device starts it. For an idle condition the watcher reads the signals from the databroker
the app is wired to, with the venv that has grpcio and the KUKSA stubs (the databroker bundle's). On SDV
Studio's databroker it presents a token of its own, allowed to read only the condition's signals.
"""

from __future__ import annotations

from typing import Any

from sdv_studio.core.deploy.agent_link.client import AgentClient, AgentUnavailable
from sdv_studio.core.deploy.kuksa_wiring import Wiring, broker_venv, start_fallback_broker
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.orchestrator import DeployError, JobOutcome, StepReporter
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.schedule import Schedule
from sdv_studio.core.deploy.security.tokens import SigningKey, mint
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.ssh.errors import SshError

READER_SUBJECT = "sdv-studio-staged"  # the token's subject: the agent's watcher, not the app


async def stage_release(agent: AgentClient, package: PackageFile, info: dict[str, Any], wiring: Wiring,
                        source: dict[str, Any], start: dict[str, Any], ca_path: str | None, schedule: Schedule,
                        options: DeployOptions, step: StepReporter, key: SigningKey) -> JobOutcome:
    args = {**source, **{k: v for k, v in start.items() if k != "advertise"}, "when": schedule.agent_when(),
            "deploymentId": step.deployment_id}
    try:
        if wiring.start_fallback or schedule.idle:
            await step.stage(Stage.KUKSA)
        if wiring.start_fallback:  # as a deployment would: the app finds its databroker when it starts
            await start_fallback_broker(agent, package.manifest, info, with_mqtt=wiring.with_mqtt,
                                        catalogue=package.entries.get("support/vss.json"), key=key)
        if schedule.idle:
            args["reader"] = await _reader(agent, info, wiring, ca_path, schedule, options, step, key)
        staged = await agent.call("stage", args, timeout=options.health_timeout + 900,  # an offline pip install
                                  on_progress=lambda event: _progress(step, event))
    except (AgentUnavailable, SshError, TimeoutError) as exc:
        raise DeployError(f"lost the device while staging: {exc}; sdv-studio status shows whether {package.name} "
                          f"{package.version} was staged") from exc
    if staged.get("alreadyRunning"):
        return JobOutcome(message=f"{package.name} {package.version} already running; nothing to stage",
                          runtime="native")
    running = staged.get("running")
    note = f"; {running.rsplit('-', 1)[0]} keeps running until then" if running else "; nothing runs until then"
    replaced = f" (replacing staged {staged['replaced'].rsplit('-', 1)[0]})" if staged.get("replaced") else ""
    return JobOutcome(message=f"{package.name} {package.version} staged{replaced}: starts {schedule.describe()}"
                              f"{note}", runtime="native", staged=True)


async def _reader(agent: AgentClient, info: dict[str, Any], wiring: Wiring, ca_path: str | None, schedule: Schedule,
                  options: DeployOptions, step: StepReporter, key: SigningKey) -> dict[str, Any]:
    """The agent's ``reader``: where and how the watcher reads the condition's signals."""
    venv = await broker_venv(agent, info)  # after a fallback start, already there: nothing more is sent
    await step.log(f"the device reads {', '.join(schedule.paths)} from databroker {wiring.broker} ({wiring.how})")
    token = mint(key, READER_SUBJECT, " ".join(f"read:{p}" for p in schedule.paths)) if wiring.ours \
        else options.broker_token
    reader = {"broker": wiring.broker, "venv": venv, "token": token, "caFile": ca_path}
    return {k: v for k, v in reader.items() if v}


async def _progress(step: StepReporter, event: dict[str, Any]) -> None:
    if event.get("progress") == "requirements":
        await step.log("creating the app's environment: installing its requirements offline")
    elif event.get("progress") == "installed":
        already = "already installed" if event.get("alreadyInstalled") else "installed"
        await step.log(f"release {event.get('release')} {already}; staged, not started")
