"""Detect brokers *on* a device, its loopback included, through the SSH connection already open.

The device lists its listening ports (/proc/net/tcp); each candidate port is classified by the same
probes as a network host (detect.classify), reached through a forwarded SSH channel
(ssh.forward), so a databroker bound to the device's 127.0.0.1, KUKSA's default, is found too.
This computer (a LocalConnection, no SSH) is probed the same way, its ports dialled directly.

One function for the Devices step's KUKSA column, the Kuksa step and ``sdv-studio brokers --device``,
so they cannot disagree; ``classify_at`` asks about one port the same way (the Kuksa step's Test connection).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Protocol

import paramiko

from sdv_studio.core.defaults import BROKER_HOST_TIMEOUT, BROKER_PORT_TIMEOUT
from sdv_studio.core.kuksa import detect
from sdv_studio.core.kuksa.listening import LISTENING_COMMAND, Listener, parse_listening
from sdv_studio.core.ssh.connection import CommandResult, connect
from sdv_studio.core.ssh.forward import local_forward
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.broker import KuksaBrokerInfo


class DeviceShell(Protocol):
    """What detection needs of a connection: an SshConnection, or core.deploy.local's LocalConnection."""

    target: SshTarget

    async def run(self, command: str, *, stdin: bytes | None = None, timeout: float = 60.0) -> CommandResult: ...


@contextlib.contextmanager
def _reach(conn: DeviceShell, listener: Listener) -> Iterator[tuple[str, int]]:
    """Where this machine dials to reach ``listener``: a forwarded port, or the port itself locally."""
    transport: paramiko.Transport | None = getattr(conn, "transport", None)
    if transport is None:
        yield listener.connect_host, listener.port
        return
    with local_forward(transport, listener.port, listener.connect_host) as port:
        yield "127.0.0.1", port


async def listening_ports(conn: DeviceShell, timeout: float = 10.0) -> dict[int, Listener]:
    result = await conn.run(LISTENING_COMMAND, timeout=timeout)
    return parse_listening(result.stdout)


async def detect_on_device(
    conn: DeviceShell,
    host: str,
    listening: dict[int, Listener] | None = None,
    extra_ports: Iterable[int] = (),
    probe_timeout: float = BROKER_PORT_TIMEOUT,
    host_timeout: float = BROKER_HOST_TIMEOUT,
) -> list[KuksaBrokerInfo]:
    """Brokers on the device behind ``conn``, reported under ``host`` (its address), by port.

    ``listening`` saves a round trip when the caller already read the device's ports."""
    if listening is None:
        listening = await listening_ports(conn, host_timeout)
    wanted = [listening[p] for p in detect.candidate_ports(extra_ports) if p in listening]

    async def one(listener: Listener) -> KuksaBrokerInfo | None:
        with _reach(conn, listener) as (dial_host, dial_port):
            info = await detect.classify(dial_host, dial_port, probe_timeout)
        if info is None:
            return None
        return info.model_copy(update={"host": host, "port": listener.port, "local_only": listener.local_only})

    tasks = [asyncio.ensure_future(one(listener)) for listener in wanted]
    done, pending = await asyncio.wait(tasks, timeout=host_timeout) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    found = [task.result() for task in tasks if task in done and task.exception() is None]
    return sorted((info for info in found if info is not None), key=lambda i: i.port)


@contextlib.asynccontextmanager
async def _device_shell(target: SshTarget, trust: HostKeyTrust,
                        timeout: float) -> AsyncIterator[tuple[DeviceShell, str]]:
    """A shell on ``target`` (this computer without SSH) and the address its brokers are reported under."""
    from sdv_studio.core.deploy.agent_link.local_target import LocalConnection, is_local

    if is_local(target):
        yield LocalConnection(), "127.0.0.1"
        return
    async with connect(target, trust, timeout=min(timeout, 15.0)) as conn:
        yield conn, target.host


async def detect_at(target: SshTarget, trust: HostKeyTrust, extra_ports: Iterable[int] = (),
                    probe_timeout: float = BROKER_PORT_TIMEOUT,
                    host_timeout: float = BROKER_HOST_TIMEOUT) -> list[KuksaBrokerInfo]:
    """Connect to ``target`` (this computer without SSH) and detect there; raises SshError."""
    async with _device_shell(target, trust, host_timeout) as (conn, host):
        return await detect_on_device(conn, host, None, extra_ports, probe_timeout, host_timeout)


async def classify_at(target: SshTarget, trust: HostKeyTrust, port: int,
                      probe_timeout: float = BROKER_PORT_TIMEOUT,
                      host_timeout: float = BROKER_HOST_TIMEOUT) -> KuksaBrokerInfo | None:
    """What answers on ``port`` of ``target``, reached on the device as detection reaches it (so a
    broker on its loopback counts); None when nothing listens there or it is no broker. Raises SshError."""
    async with _device_shell(target, trust, host_timeout) as (conn, host):
        listener = (await listening_ports(conn, host_timeout)).get(port)
        if listener is None:
            return None
        found = await detect_on_device(conn, host, {port: listener}, (port,), probe_timeout, host_timeout)
    return found[0] if found else None
