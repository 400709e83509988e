"""Binding to device discovery (sdv_studio.core.discovery, core.ssh, core.inventory).

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
from typing import TYPE_CHECKING, Protocol

from sdv_studio.core.errors import OperationFailed
from sdv_studio.models.sizes import human_size
from sdv_studio.paths import user_path

# The engine's modules (paramiko, zeroconf, docker) load on first use, not with the window.
if TYPE_CHECKING:
    from sdv_studio.core import discovery as core
    from sdv_studio.core.inventory import Inventory
    from sdv_studio.core.scan_defaults import ScanDefaults
    from sdv_studio.core.ssh import HostKeyOffer, HostKeyTrust, SshTarget
    from sdv_studio.models.broker import KuksaBrokerInfo
    from sdv_studio.models.device import DeviceInfo

LOCAL_ID = "local"  # core.deploy.local's name for this computer (checked by the GUI tests)


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
    reason: str = ""  # why it is not compatible, or what went wrong; else what is worth knowing
    local: bool = False  # "This computer"
    sources: tuple[str, ...] = field(default=())  # how it was found: mdns, sweep, probe, inventory
    fingerprint: str = ""  # SHA256 host key fingerprint, once seen
    identity: str = ""  # key file to log in with, when not the default ones
    key_type: str = ""  # set while the host key is new and not trusted yet (never for a changed key)
    brokers: tuple[KuksaBrokerInfo, ...] = ()  # answering on the device, its loopback included

    @property
    def saved(self) -> bool:
        """In the device inventory: adding it again updates the saved one."""
        return "inventory" in self.sources

    @property
    def untrusted(self) -> bool:
        """Its new host key awaits a person's review; a *changed* key is refused, never offered."""
        return bool(self.key_type and self.fingerprint)

    def identity_key(self) -> tuple[str, int]:
        """One row per device: the address and SSH port it answers on."""
        return (LOCAL_ID, 0) if self.local else (self.ip, self.port)

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
    device_id: str | None = None  # the saved device this is, when it is one


@dataclass(frozen=True)
class ScanProgress:
    done: int
    total: int
    stage: str


@dataclass(frozen=True)
class DeviceFound:
    device: Device


ScanEvent = ScanProgress | DeviceFound


class UnknownHostKey(OperationFailed):
    """The device's SSH host key is not trusted yet; the user decides."""

    def __init__(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        self.host, self.port, self.key_type, self.fingerprint = host, port, key_type, fingerprint
        super().__init__(f"{host}: unknown {key_type} host key {fingerprint}")


class ChangedHostKey(OperationFailed):
    """The device's key differs from the trusted one: always refused."""


class AuthenticationRequired(OperationFailed):
    """Key authentication failed; a password may help."""

    def __init__(self, host: str, user: str, message: str = "") -> None:
        self.host, self.user = host, user
        super().__init__(message or f"{user}@{host}: authentication failed")


class DiscoveryEngine(Protocol):
    def scan(self, cidrs: list[str], options: ProbeOptions) -> AsyncIterator[ScanEvent]: ...

    async def probe(self, address: str, options: ProbeOptions) -> Device: ...

    async def trust_host_key(self, host: str, port: int, key_type: str, fingerprint: str) -> None: ...

    def this_computer(self) -> Device: ...

    async def probe_local(self) -> Device: ...

    def saved(self, options: ProbeOptions) -> AsyncIterator[ScanEvent]:
        """The saved devices, listed at once, then probed (no sweep, no mDNS)."""
        ...

    def load_defaults(self) -> ScanDefaults: ...

    def save_defaults(self, defaults: ScanDefaults) -> None: ...

    def ssh_keys(self) -> list[str]: ...


def this_computer() -> Device:
    """The workstation itself, always offered so the wizard works with no hardware; what it can
    run is known once ``probe_local`` answered (until then it is not a usable target)."""
    try:
        memory = human_size(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        memory = ""
    arch = {"amd64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}.get(platform.machine().lower(),
                                                                       platform.machine() or "unknown")
    return Device(id=LOCAL_ID, name=f"This computer ({socket.gethostname()})", ip="127.0.0.1",
                  type="linux-generic" if sys.platform.startswith("linux") else "unknown",
                  runtime="–", architecture=arch, compatible=False, reason="Probing…",
                  memory=memory, storage=human_size(shutil.disk_usage(os.path.expanduser("~")).free),
                  last_seen=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  os=platform.platform(terse=True), python=platform.python_version(), local=True)


class Approvals:
    """Host keys a person approved in this session, and passwords typed but not remembered.

    Shared by discovery and deployment: the engine's HostKeyTrust asks ``confirm`` about a new key,
    which passes only the exact fingerprint the user saw and accepted.
    """

    def __init__(self) -> None:
        self.fingerprints: dict[str, str] = {}  # known_hosts name -> approved SHA256 fingerprint
        self.passwords: dict[tuple[str, str, int], str] = {}

    async def confirm(self, offer: HostKeyOffer) -> bool:
        return self.fingerprints.get(offer.host) == offer.fingerprint

    def trust(self) -> HostKeyTrust:
        from sdv_studio.core.ssh import HostKeyTrust

        return HostKeyTrust(confirm=self.confirm)

    def target(self, device: Device) -> SshTarget:
        """Where to connect for ``device`` (this computer needs no SSH)."""
        from sdv_studio.core.deploy.agent_link.local_target import local_target
        from sdv_studio.core.ssh.target import SshTarget, local_user

        if device.local:
            return local_target()
        user = device.user or local_user()
        key = user_path(device.identity) if device.identity else None
        return SshTarget(device.ip, device.port, user, key, self.passwords.get((user, device.ip, device.port)))


def from_info(info: DeviceInfo) -> Device:
    """The GUI's row for the engine's DeviceInfo."""
    caps = info.capabilities
    probing = info.compatible is None and info.status == "online"
    # A usable device's notes (e.g. docker denied, native works) show where its reason would.
    reason = "Probing…" if probing else (info.reason or "; ".join(info.notes))
    if "authentication refused" in reason and "; add your public key" in reason:
        # The engine's advice names command-line options; here the actions are a double-click and the Key file.
        reason = (reason.split("; add your public key")[0] + "; double-click to sign in with a password, or "
                  "set the Key file and scan again")
    if info.host_key_type and info.host_key_fingerprint:
        # The engine's text names a command-line flag; here the action is the Trust… button.
        reason = (f"{info.ip}: new host key ({info.host_key_type} {info.host_key_fingerprint}); "
                  "compare it with the device's and trust it with Trust…")
    return Device(
        id=info.id, name=info.name, ip=info.ip, type=info.type, port=info.port, user=info.user or "",
        status=info.status, runtime=info.runtime or "–", architecture=info.architecture, gpu=caps.gpu,
        kuksa=caps.kuksa, memory=caps.memory if caps.memory != "unknown" else "",
        storage=caps.storage if caps.storage != "unknown" else "",
        last_seen=info.last_seen.strftime("%Y-%m-%dT%H:%M:%SZ"), os=info.os or "", python=info.python or "",
        compatible=bool(info.compatible), reason=reason, sources=tuple(info.sources),
        fingerprint=info.host_key_fingerprint or "", key_type=info.host_key_type or "", brokers=tuple(info.brokers))


def _progress(event: core.ScanProgress) -> ScanProgress:
    done = event.swept + event.probed
    total = event.sweep_total + event.probes_started
    stage = (f"Swept {event.swept} of {event.sweep_total} addresses · probed {event.probed} of "
             f"{event.probes_started} devices")
    return ScanProgress(done, max(total, 1), stage)


class CoreDiscovery:
    def __init__(self, approvals: Approvals, inventory: Inventory | None = None) -> None:
        self.approvals = approvals
        self._inventory = inventory

    @property
    def inventory(self) -> Inventory:
        if self._inventory is None:  # on first use: it brings the SSH layer with it
            from sdv_studio.core.inventory import Inventory

            self._inventory = Inventory()
        return self._inventory

    def scan(self, cidrs: list[str], options: ProbeOptions) -> AsyncIterator[ScanEvent]:
        return self._scan(cidrs, options, sweep=True)

    def saved(self, options: ProbeOptions) -> AsyncIterator[ScanEvent]:
        return self._scan([], options, sweep=False)

    async def _scan(self, cidrs: list[str], options: ProbeOptions, sweep: bool) -> AsyncIterator[ScanEvent]:
        from sdv_studio.core import discovery as core

        scanner = core.Scanner(core.ScanOptions(
            cidrs=cidrs or None, user=options.user or None, port=options.port, use_sweep=sweep,
            use_mdns=sweep, key_file=user_path(options.identity) if options.identity else None,
            trust=self.approvals.trust()), self.inventory)
        async for event in scanner.events():
            if isinstance(event, core.DeviceFound | core.DeviceUpdated):
                yield DeviceFound(replace(from_info(event.device), identity=options.identity))
            elif isinstance(event, core.ScanProgress):
                yield _progress(event)

    async def probe(self, address: str, options: ProbeOptions) -> Device:
        """Probes and, once it answers, saves the device (core.discovery.add_device), so the CLI and
        later scans know it too."""
        from sdv_studio.core.discovery import DeviceEntry, probe_and_save
        from sdv_studio.core.ssh import AuthFailed, HostKeyChanged, HostKeyUnknown, SshError
        from sdv_studio.core.ssh.target import parse_address

        user, host, port = parse_address(address)
        entry = DeviceEntry(host, port or options.port, user or options.user or None, options.identity or None,
                            options.device_id)
        try:
            info = await probe_and_save(entry, self.approvals.trust(), self.inventory, password=options.password,
                                        remember_password=options.remember_password)
        except HostKeyUnknown as error:
            raise UnknownHostKey(host, port or options.port, error.key_type, error.fingerprint) from error
        except HostKeyChanged as error:
            raise ChangedHostKey(str(error)) from error
        except AuthFailed as error:
            raise AuthenticationRequired(host, error.user, str(error)) from error
        except SshError as error:
            raise ConnectionError(str(error)) from error
        if options.password and info.user:  # for the deployment and broker detection, this session
            self.approvals.passwords[(info.user, info.ip, info.port)] = options.password
        return replace(from_info(info), identity=options.identity)

    async def trust_host_key(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        from sdv_studio.core.ssh import SshTarget

        self.approvals.fingerprints[SshTarget(host, port).known_hosts_name] = fingerprint

    def this_computer(self) -> Device:
        return this_computer()

    async def probe_local(self) -> Device:
        """This computer by the devices' probe: a usable engine, a databroker on loopback, Python."""
        from sdv_studio.core.discovery.classify import assess
        from sdv_studio.core.discovery.probe import probe_local

        result = await probe_local()
        if result.facts is None:
            return replace(this_computer(), status="error", compatible=False, reason=str(result.error))
        found = assess(result.facts, {}, result.brokers)
        caps = found.capabilities
        return replace(this_computer(), type=found.type, architecture=found.architecture,
                       runtime=found.runtime or "–", gpu=caps.gpu, kuksa=caps.kuksa,
                       memory=caps.memory if caps.memory != "unknown" else "",
                       storage=caps.storage if caps.storage != "unknown" else "",
                       python=found.python or "", compatible=found.compatible,
                       reason=found.reason or "; ".join(found.notes), brokers=tuple(result.brokers),
                       sources=("probe",))


    def load_defaults(self) -> ScanDefaults:
        from sdv_studio.core import scan_defaults

        return scan_defaults.load()

    def save_defaults(self, defaults: ScanDefaults) -> None:
        from sdv_studio.core import scan_defaults

        scan_defaults.save(defaults)

    def ssh_keys(self) -> list[str]:
        from sdv_studio.core import scan_defaults

        return scan_defaults.ssh_keys()


def default_engine(approvals: Approvals) -> DiscoveryEngine:
    return CoreDiscovery(approvals)


def touched(device: Device, **changes: object) -> Device:
    """A copy with ``changes`` and a fresh last-seen time."""
    return replace(device, last_seen=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **changes)  # type: ignore[arg-type]
