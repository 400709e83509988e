"""One device's link while it is monitored: the connection (SSH, or none for This computer), one
agent session on it, a check that the device still answers, and addresses on this machine that
lead to ports on the device's loopback through the same connection (nothing opened on the device)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import paramiko

from sdv_studio.core.deploy.agent_link.client import AgentCallError, AgentClient, AgentUnavailable
from sdv_studio.core.deploy.agent_link.session import agent_session
from sdv_studio.core.errors import OperationFailed
from sdv_studio.core.ssh.errors import (
    AuthFailed,
    HostKeyChanged,
    HostKeyUnknown,
    KeyFileError,
    KnownHostsDamaged,
    SshError,
)
from sdv_studio.core.ssh.forward import local_forward
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust

# Failures no retry can mend: the user has to act (trust a key, fix a login).
_FINAL = (AuthFailed, HostKeyChanged, HostKeyUnknown, KeyFileError, KnownHostsDamaged)


class LinkLost(OperationFailed):
    """The device could not be reached, or stopped answering. ``final``: retrying will not help."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


@dataclass
class DeviceLink:
    agent: AgentClient
    stall: float  # seconds a device may take to answer before the link counts as lost

    async def call(self, command: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """An agent command's answer; AgentCallError when the agent refuses it, LinkLost when no answer comes."""
        try:
            return await self.agent.call(command, args or {}, timeout=self.stall)
        except AgentCallError:
            raise
        except (SshError, AgentUnavailable, OSError, EOFError) as exc:
            self._drop()
            raise LinkLost(f"no answer from the device: {exc}") from exc

    async def keepalive(self) -> None:
        """An SSH request the device's sshd answers itself; LinkLost when it does not within ``stall``."""
        transport = self.transport
        if transport is None:
            return  # This computer: nothing in between to lose
        try:
            await asyncio.wait_for(asyncio.to_thread(transport.global_request, "keepalive@openssh.com", None, True),
                                   self.stall)
        except TimeoutError as exc:
            self._drop()
            raise LinkLost(f"no answer from the device for {self.stall:g}s") from exc
        if not transport.is_active():
            raise LinkLost("the connection to the device closed")

    @property
    def transport(self) -> paramiko.Transport | None:
        transport: paramiko.Transport | None = getattr(self.agent.remote, "transport", None)
        return transport

    @contextlib.contextmanager
    def reach(self, host: str, port: int) -> Iterator[str]:
        """``host:port`` to dial here for ``host:port`` as the device sees it."""
        transport = self.transport
        if transport is None:
            yield f"{host}:{port}"
            return
        with local_forward(transport, port, host, timeout=self.stall) as local_port:
            yield f"127.0.0.1:{local_port}"

    def _drop(self) -> None:
        """Close the connection: a write stuck on a dead link would otherwise wait for ever."""
        if self.transport is not None:
            self.transport.close()


@asynccontextmanager
async def open_link(target: SshTarget, trust: HostKeyTrust, timeout: float, stall: float) -> AsyncIterator[DeviceLink]:
    """Connected within ``timeout`` (LinkLost otherwise); closed, without waiting on a dead link, at the end."""
    stack = AsyncExitStack()
    try:
        agent, _info = await stack.enter_async_context(agent_session(target, trust, timeout))
    except BaseException as exc:
        await stack.aclose()
        if isinstance(exc, _FINAL):
            raise LinkLost(str(exc), final=True) from exc
        if isinstance(exc, SshError | AgentUnavailable | AgentCallError | TimeoutError | OSError | EOFError):
            raise LinkLost(str(exc) or f"{target.label}: no answer in {timeout:g}s") from exc
        raise
    async with stack:
        yield DeviceLink(agent, stall)
