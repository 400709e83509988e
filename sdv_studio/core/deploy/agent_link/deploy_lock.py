"""A session with a device's agent that holds the device's deployment lock (the agent's ``prepare``
takes it for the session's life): one deployment at a time on a device, whichever workstation starts
it and whatever the runtime."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from contextlib import AsyncExitStack
from typing import Any

from sdv_studio.core.deploy.agent_link.client import AgentCallError, AgentClient
from sdv_studio.core.deploy.agent_link.session import agent_session
from sdv_studio.core.deploy.agent_link.transfer import prepare_args
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.orchestrator import StepReporter
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust

LOCK_POLL = 1.0  # seconds between asks while another deployment holds the device


async def locked_session(session: AsyncExitStack, target: SshTarget, trust: HostKeyTrust, package: PackageFile,
                          options: DeployOptions, step: StepReporter) -> tuple[AgentClient, dict[str, Any]]:
    """An agent session (entered into ``session``) holding the device's deployment lock, which
    ``prepare`` takes: while another deployment holds it, ask again for up to ``options.lock_wait``
    seconds, saying who holds it; then the agent's refusal, naming the holder, is the error."""
    holder = {"host": socket.gethostname(), "pid": os.getpid(), "deploymentId": step.deployment_id}
    args = {**prepare_args(package), "holder": holder}
    deadline = time.monotonic() + options.lock_wait
    told = None
    while True:
        try:
            return await session.enter_async_context(
                agent_session(target, trust, options.connect_timeout, "prepare", args))
        except AgentCallError as exc:
            busy = exc.answer.get("busy")
            if busy is None or time.monotonic() >= deadline:
                raise
            if busy != told:
                told = busy
                await step.log(f"{exc}; waiting up to {options.lock_wait:g}s for it to end")
            await asyncio.sleep(LOCK_POLL)
