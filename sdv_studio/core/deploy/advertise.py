"""With a deployment: the device advertises itself as ``_sdv-agent._tcp`` over mDNS, so the next
scan finds it by name even where a sweep cannot reach. Best effort: never fails a deploy.

A native deploy carries it (the wheels go with the package, the agent starts the advertiser
after the app passed its gate); other runtimes call ``advertise``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sdv_studio.core.deploy.agent_link.client import AgentCallError, AgentClient, AgentUnavailable
from sdv_studio.core.deploy.agent_link.local_target import is_local
from sdv_studio.core.deploy.agent_link.uploads import TransferStalled, upload_files
from sdv_studio.core.device_wheels.zeroconf_wheels import zeroconf_wheels
from sdv_studio.core.packaging.wheels import WheelError
from sdv_studio.core.ssh.errors import SshError
from sdv_studio.core.ssh.target import SshTarget


@dataclass(frozen=True)
class Advert:
    args: dict[str, Any] | None = None  # the agent's mdns arguments; None: nothing to start
    files: list[tuple[bytes, str]] = field(default_factory=list)  # wheels to upload first
    problem: str | None = None  # why the device will not advertise

    def outcome(self, answer: dict[str, Any] | None) -> str | None:
        """A line for the deployment's log from the agent's mdns answer (None: nothing to say)."""
        if self.problem:
            return f"not advertised over mDNS: {self.problem}"
        if self.args is None or answer is None:
            return None
        if not answer.get("advertising"):
            return f"not advertised over mDNS: {answer.get('reason')}"
        return (f"advertising the device as _sdv-agent._tcp over mDNS on {answer.get('on') or 'every interface'} "
                f"(via {answer.get('via')})")


async def plan_advert(info: dict[str, Any], target: SshTarget, wanted: bool) -> Advert:
    """What starting the advertiser takes, when the deployment asks for it and it does not run
    already (the agent's info says). It announces on the address the SSH connection reached."""
    if not wanted or info.get("advertising"):
        return Advert()
    if is_local(target):
        return Advert(problem="this computer is the workstation, not a device to announce on the network")
    args: dict[str, Any] = {"port": target.port, "address": info.get("sshAddress")}
    if info.get("avahi"):
        return Advert(args)
    props = info["properties"]
    python = ".".join(str(props["python"]).split(".")[:2])
    try:
        wheels = await asyncio.to_thread(zeroconf_wheels, python, str(props["arch"]))
    except WheelError as exc:
        return Advert(problem="; ".join(exc.problems))
    args["wheels"] = f"{info['uploads']}/mdns-wheels"
    return Advert(args, [(data, f"{args['wheels']}/{name}") for name, data in sorted(wheels.items())])


async def advertise(agent: AgentClient, info: dict[str, Any], stall: float, wanted: bool) -> str | None:
    """Plan, upload and start the advertiser in calls of its own; a line for the log, or None."""
    advert = await plan_advert(info, agent.remote.target, wanted)
    if advert.args is None:
        return advert.outcome(None)
    try:
        await upload_files(agent, advert.files, stall=stall)
        answer = await agent.call("mdns", {**advert.args, "action": "start"}, timeout=stall)
    except (AgentCallError, AgentUnavailable, SshError, TransferStalled, TimeoutError) as exc:
        return f"not advertised over mDNS: {exc}"
    return advert.outcome(answer)
