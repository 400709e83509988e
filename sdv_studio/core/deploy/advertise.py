"""After a deployment: the device advertises itself as ``_sdv-agent._tcp`` over mDNS, so the
next scan finds it by name even where a sweep cannot reach. Best effort: never fails a deploy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sdv_studio.core.deploy.agent_client import AgentCallError, AgentClient, AgentUnavailable
from sdv_studio.core.deploy.local import is_local
from sdv_studio.core.deploy.mdns_wheels import mdns_wheels
from sdv_studio.core.deploy.uploads import TransferStalled, upload_files
from sdv_studio.core.packaging.wheels import WheelError
from sdv_studio.core.ssh.errors import SshError


async def advertise(agent: AgentClient, info: dict[str, Any], stall: float) -> str | None:
    """Starts the agent's advertiser unless it runs (``info`` says); a line for the log, or None."""
    target = agent.remote.target
    if info.get("advertising") or is_local(target):  # this computer is no device to announce on the LAN
        return None
    args: dict[str, Any] = {"action": "start", "port": target.port}
    try:
        if not info.get("avahi"):
            props = info["properties"]
            python = ".".join(str(props["python"]).split(".")[:2])
            files = await asyncio.to_thread(mdns_wheels, python, str(props["arch"]))
            args["wheels"] = f"{info['uploads']}/mdns-wheels"
            await upload_files(agent.remote, [(data, f"{args['wheels']}/{name}") for name, data in files.items()],
                               stall=stall)
        answer = await agent.call("mdns", args, timeout=stall)
    except WheelError as exc:
        return "not advertised over mDNS: " + "; ".join(exc.problems)
    except (AgentCallError, AgentUnavailable, SshError, TransferStalled, TimeoutError) as exc:
        return f"not advertised over mDNS: {exc}"
    if not answer.get("advertising"):
        return f"not advertised over mDNS: {answer.get('reason')}"
    return f"advertising the device as _sdv-agent._tcp over mDNS (via {answer.get('via')})"


@asynccontextmanager
async def advertising_meanwhile(agent: AgentClient, info: dict[str, Any], stall: float,
                                log: Callable[[str], Awaitable[None]]) -> AsyncIterator[None]:
    """``advertise`` while the body runs (a health gate leaves the link idle), then its line logged.
    A failing or cancelled body cancels it."""
    task = asyncio.create_task(advertise(agent, info, stall))
    try:
        yield
    except BaseException:
        task.cancel()
        raise
    line = await task
    if line:
        await log(line)
