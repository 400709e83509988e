"""Binding to device discovery (issue 4: sdv_studio.core.discovery, core.ssh, core.inventory).

The Devices page renders :class:`Device` rows and asks the engine through :class:`DiscoveryEngine`;
host-key and password questions come back as exceptions the page turns into dialogs.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    ip: str
    type: str = "linux-generic"  # jetson-orin | linux-generic | automotive-prototype | unknown
    port: int = 22
    user: str = ""
    status: str = "online"  # online | offline | error
    runtime: str = "native"  # docker | native | both
    architecture: str = "x86_64"
    gpu: bool = False
    kuksa: bool = False
    memory: str = ""
    storage: str = ""
    last_seen: str = ""
    os: str = ""
    python: str = ""
    compatible: bool = True
    reason: str = ""  # why it is not compatible, or what went wrong
    local: bool = False  # "This computer"
    sources: tuple[str, ...] = field(default=())  # how it was found: mdns, sweep, manual

    def address(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port != 22 else ""
        return f"{user}{self.ip}{port}"


@dataclass(frozen=True)
class ProbeOptions:
    user: str = ""
    port: int = 22
    identity: str = ""
    password: str | None = None
    remember_password: bool = False


@dataclass(frozen=True)
class ScanProgress:
    done: int
    total: int
    stage: str


@dataclass(frozen=True)
class DeviceFound:
    device: Device


ScanEvent = ScanProgress | DeviceFound


class UnknownHostKey(Exception):
    """The device's SSH host key is not trusted yet; the user decides."""

    def __init__(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        self.host, self.port, self.key_type, self.fingerprint = host, port, key_type, fingerprint
        super().__init__(f"{host}: unknown {key_type} host key {fingerprint}")


class ChangedHostKey(Exception):
    """The device's key differs from the trusted one: always refused."""


class AuthenticationRequired(Exception):
    """Key authentication failed; a password may help."""

    def __init__(self, host: str, user: str, message: str = "") -> None:
        self.host, self.user = host, user
        super().__init__(message or f"{user}@{host}: authentication failed")


class EngineUnavailable(Exception):
    """This build has no engine for the operation."""


class DiscoveryEngine(Protocol):
    def scan(self, cidrs: list[str], options: ProbeOptions) -> AsyncIterator[ScanEvent]: ...

    async def probe(self, address: str, options: ProbeOptions) -> Device: ...

    async def trust_host_key(self, host: str, port: int, key_type: str, fingerprint: str) -> None: ...

    def this_computer(self) -> Device: ...


def _size(n: int) -> str:
    return f"{n / 1024**3:.0f}GB" if n >= 1024**3 else f"{n / 1024**2:.0f}MB"


def this_computer() -> Device:
    """The workstation itself, always offered so the wizard works with no hardware."""
    try:
        memory = _size(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        memory = ""
    arch = {"amd64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}.get(platform.machine().lower(),
                                                                       platform.machine() or "unknown")
    return Device(id="localhost", name=f"This computer ({socket.gethostname()})", ip="127.0.0.1",
                  type="linux-generic" if sys.platform.startswith("linux") else "unknown",
                  runtime="docker" if shutil.which("docker") else "native", architecture=arch,
                  memory=memory, storage=_size(shutil.disk_usage(os.path.expanduser("~")).free),
                  last_seen=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  os=platform.platform(terse=True), python=platform.python_version(), local=True,
                  sources=("local",))


class LocalOnlyDiscovery:
    """What this build can discover without the discovery engine: the workstation itself."""

    async def scan(self, cidrs: list[str], options: ProbeOptions) -> AsyncIterator[ScanEvent]:
        raise EngineUnavailable("network discovery is not part of this build yet; add devices by hand")
        yield  # makes this an async generator

    async def probe(self, address: str, options: ProbeOptions) -> Device:
        raise EngineUnavailable("probing devices over SSH is not part of this build yet")

    async def trust_host_key(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        raise EngineUnavailable("the host-key store is not part of this build yet")

    def this_computer(self) -> Device:
        return this_computer()


def default_engine() -> DiscoveryEngine:
    return LocalOnlyDiscovery()


def touched(device: Device, **changes: object) -> Device:
    """A copy with ``changes`` and a fresh last-seen time."""
    return replace(device, last_seen=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **changes)  # type: ignore[arg-type]
