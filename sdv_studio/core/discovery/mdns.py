"""mDNS browse with zeroconf's async API: our agent's service and the ones plain Linux boards announce.

``_sdv-agent._tcp``: what the SDV Studio device agent advertises (TXT: agent, arch, os, python,
runtime, type). ``_ssh._tcp`` and ``_workstation._tcp``: what avahi announces on stock boards.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

AGENT_SERVICE = "_sdv-agent._tcp.local."
SSH_SERVICE = "_ssh._tcp.local."
WORKSTATION_SERVICE = "_workstation._tcp.local."
SERVICE_TYPES = (AGENT_SERVICE, SSH_SERVICE, WORKSTATION_SERVICE)
DEFAULT_DURATION = 2.0
RESOLVE_TIMEOUT_MS = 1500
_AVAHI_MAC = re.compile(r"\s*\[[0-9a-f:]{17}\]$", re.IGNORECASE)


@dataclass(frozen=True)
class MdnsService:
    instance: str  # e.g. "jetson-01" from "jetson-01._sdv-agent._tcp.local."
    service_type: str
    server: str | None  # e.g. "jetson-01.local."
    addresses: tuple[str, ...]  # IPv4
    ssh_port: int
    properties: dict[str, str] = field(default_factory=dict)


def _instance(name: str, service_type: str) -> str:
    base = name[: -len(service_type) - 1] if name.endswith("." + service_type) else name
    return _AVAHI_MAC.sub("", base)  # avahi's workstation names end in " [mac]"


def _service(info: AsyncServiceInfo, service_type: str) -> MdnsService:
    props = {
        k.decode(errors="replace"): (v or b"").decode(errors="replace")
        for k, v in info.properties.items()
        if isinstance(k, bytes)
    }
    # _workstation._tcp carries port 9 (discard): the board's SSH is on the standard port.
    port = info.port if service_type != WORKSTATION_SERVICE and info.port else 22
    return MdnsService(
        instance=_instance(info.name, service_type),
        service_type=service_type,
        server=info.server,
        addresses=tuple(info.parsed_addresses(IPVersion.V4Only)),
        ssh_port=port,
        properties=props,
    )


async def browse(duration: float = DEFAULT_DURATION, service_types: Sequence[str] = SERVICE_TYPES
                 ) -> AsyncIterator[MdnsService]:
    """Services with at least one IPv4 address, as they resolve, for ``duration`` seconds.

    Sockets are opened on the calling thread, on the interfaces of its network namespace."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration
    queue: asyncio.Queue[MdnsService] = asyncio.Queue()
    resolving: set[asyncio.Task[None]] = set()
    aiozc = AsyncZeroconf(ip_version=IPVersion.V4Only)

    async def resolve(service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if await info.async_request(aiozc.zeroconf, RESOLVE_TIMEOUT_MS):
            found = _service(info, service_type)
            if found.addresses:
                queue.put_nowait(found)

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            task = loop.create_task(resolve(service_type, name))
            resolving.add(task)
            task.add_done_callback(resolving.discard)

    browser = AsyncServiceBrowser(aiozc.zeroconf, list(service_types), handlers=[on_change])
    try:
        while (remaining := deadline - loop.time()) > 0:
            try:
                yield await asyncio.wait_for(queue.get(), remaining)
            except TimeoutError:
                break
    finally:
        for task in list(resolving):
            task.cancel()
        with contextlib.suppress(Exception):
            await browser.async_cancel()
        await aiozc.async_close()
