"""One scan: mDNS, sweep and inventory feed addresses in; each address is probed once; results merged
by address and streamed as typed events. Cancel by cancelling the consumer or calling ``cancel()``.

All sockets are opened on the thread running the event loop (and threads it starts), so the scan
happens in that thread's network namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from sdv_studio.core.defaults import PROBE_TIMEOUT
from sdv_studio.core.discovery import mdns
from sdv_studio.core.discovery.classify import architecture, type_from_properties, with_facts
from sdv_studio.core.discovery.events import DeviceFound, DeviceUpdated, ScanEvent, ScanFinished, ScanProgress
from sdv_studio.core.discovery.probe import ProbeResult, probe
from sdv_studio.core.discovery.ranges import interface_networks, parse_cidrs
from sdv_studio.core.discovery.sweep import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Sweep
from sdv_studio.core.inventory import Inventory, SavedDevice
from sdv_studio.core.ssh import HostKeyTrust, HostKeyUnknown, SshTarget, Timeout, Unreachable
from sdv_studio.core.ssh.target import local_user
from sdv_studio.models.device import DeviceInfo, Source, utc_now

log = logging.getLogger(__name__)


@dataclass
class ScanOptions:
    cidrs: Sequence[str] | None = None  # None: this machine's interface subnets (each at most a /22)
    use_sweep: bool = True
    use_mdns: bool = True
    use_inventory: bool = True
    port: int = 22
    user: str | None = None  # None: a saved device's user, else the local user name
    key_file: Path | None = None
    trust: HostKeyTrust = field(default_factory=HostKeyTrust)
    probe_timeout: float = PROBE_TIMEOUT
    probe_concurrency: int = 16
    sweep_timeout: float = DEFAULT_TIMEOUT
    sweep_concurrency: int = DEFAULT_CONCURRENCY
    mdns_duration: float = mdns.DEFAULT_DURATION


@dataclass
class _Seen:
    """Everything learnt about one address during the scan."""

    host: str
    port: int
    sources: list[Source] = field(default_factory=list)
    saved: SavedDevice | None = None
    service: mdns.MdnsService | None = None
    result: ProbeResult | None = None


class Scanner:
    def __init__(self, options: ScanOptions, inventory: Inventory | None = None) -> None:
        """Raises RangeError for unusable ``cidrs`` and InventoryError for an unreadable inventory."""
        self.options = options
        self.networks: list[IPv4Network] = []
        if options.use_sweep:
            self.networks = parse_cidrs(options.cidrs) if options.cidrs else interface_networks()
        self.sweep = Sweep(self.networks, options.port, concurrency=options.sweep_concurrency,
                           timeout=options.sweep_timeout)
        self.inventory = (inventory or Inventory()) if options.use_inventory else None
        self._saved = self.inventory.devices() if self.inventory else []
        self._seen: dict[str, _Seen] = {}
        self._runner: asyncio.Task[None] | None = None
        self._probes = asyncio.Semaphore(options.probe_concurrency)
        self._probed = 0

    def cancel(self) -> None:
        """Stop: the event stream ends with ScanFinished(cancelled=True) and what was found so far."""
        if self._runner is not None:
            self._runner.cancel()

    def devices(self) -> list[DeviceInfo]:
        return sorted((self._device(s) for s in self._seen.values()), key=_address_order)

    async def events(self) -> AsyncIterator[ScanEvent]:
        queue: asyncio.Queue[ScanEvent] = asyncio.Queue()
        start = time.monotonic()
        runner = self._runner = asyncio.create_task(self._run(queue.put_nowait))
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                try:
                    done, _ = await asyncio.wait({getter, runner}, return_when=asyncio.FIRST_COMPLETED)
                except asyncio.CancelledError:
                    getter.cancel()  # else it lingers, pending, until the loop is collected
                    raise
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                while not queue.empty():
                    yield queue.get_nowait()
                if not runner.cancelled() and (error := runner.exception()) is not None:
                    raise error
                yield ScanFinished(self.devices(), time.monotonic() - start, runner.cancelled())
                return
        finally:
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner

    async def _run(self, emit: Callable[[ScanEvent], None]) -> None:
        async with asyncio.TaskGroup() as group:
            def see(host: str, port: int, source: Source, **learnt: object) -> None:
                seen = self._seen.get(host)
                first = seen is None
                if seen is None:
                    seen = self._seen[host] = _Seen(host, port)
                if source not in seen.sources:
                    seen.sources.append(source)
                for key, value in learnt.items():
                    setattr(seen, key, value)
                emit(DeviceFound(self._device(seen)) if first else DeviceUpdated(self._device(seen)))
                if first:
                    group.create_task(self._probe(seen, emit))

            for saved in self._saved:
                see(saved.host, saved.port, "inventory", saved=saved)
            if self.options.use_sweep and self.networks:
                group.create_task(self._sweep(see, emit))
            if self.options.use_mdns:
                group.create_task(self._mdns(see))

    async def _sweep(self, see: Callable[..., None], emit: Callable[[ScanEvent], None]) -> None:
        finished = asyncio.Event()

        async def tick() -> None:  # the sweep's progress, a few times a second
            while not finished.is_set():
                emit(self._progress())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(finished.wait(), 0.25)

        ticker = asyncio.create_task(tick())
        try:
            async for hit in self.sweep.hits():
                see(hit.ip, hit.port, "sweep")
        finally:
            finished.set()
            await ticker
        emit(self._progress())

    async def _mdns(self, see: Callable[..., None]) -> None:
        try:
            async for service in mdns.browse(self.options.mdns_duration):
                host = next((a for a in service.addresses if a in self._seen), service.addresses[0])
                see(host, service.ssh_port, "mdns", service=service)
        except OSError as exc:  # no multicast-capable interface: the sweep and inventory still work
            log.warning("mDNS browse failed: %s", exc)

    async def _probe(self, seen: _Seen, emit: Callable[[ScanEvent], None]) -> None:
        opts = self.options
        if seen.saved is not None:
            target = seen.saved.target(user=opts.user, key_file=opts.key_file)
        else:
            target = SshTarget(seen.host, seen.port, opts.user or local_user(), opts.key_file)
        async with self._probes:
            seen.result = await probe(target, opts.trust, opts.probe_timeout)
        self._probed += 1
        if seen.result.facts is not None and seen.saved is not None and self.inventory is not None:
            seen.saved = self.inventory.edit(seen.saved.id, last_seen=utc_now())
        if "probe" not in seen.sources and seen.result.facts is not None:
            seen.sources.append("probe")
        emit(DeviceUpdated(self._device(seen)))
        emit(self._progress())

    def _progress(self) -> ScanProgress:
        return ScanProgress(self.sweep.done, self.sweep.total, self._probed, len(self._seen))

    def _device(self, seen: _Seen) -> DeviceInfo:
        saved, service, result = seen.saved, seen.service, seen.result
        props = service.properties if service else {}
        facts = result.facts if result else None
        user = self.options.user or (saved.user if saved else None) or local_user()
        device = DeviceInfo(
            id=saved.id if saved else seen.host,
            name=(saved.name if saved else None) or (service.instance if service else None)
            or (facts or {}).get("hostname") or seen.host,
            ip=seen.host,
            port=seen.port,
            user=user,
            sources=list(seen.sources),
            properties=props,
            type=type_from_properties(props),
            architecture=architecture(props.get("arch")),
            host_key_fingerprint=result.fingerprint if result else None,
        )
        if result is not None and isinstance(result.error, HostKeyUnknown):
            # Shown so a person can compare it with the device's before trusting it.
            device.host_key_fingerprint, device.host_key_type = result.error.fingerprint, result.error.key_type
        if facts is not None:
            assert result is not None
            return with_facts(device, facts, props, result.brokers)
        seen_live = bool({"sweep", "mdns"} & set(seen.sources))
        last_seen = device.last_seen if seen_live or saved is None else saved.last_seen or saved.added_at
        if result is None or result.error is None:
            return device.model_copy(update={"status": "online" if seen_live else "offline", "last_seen": last_seen})
        # A device we could not reach and nobody else saw is offline; one that answered but refused is in error.
        unreachable = isinstance(result.error, Unreachable | Timeout) and not seen_live
        return device.model_copy(update={
            "status": "offline" if unreachable else "error", "reason": str(result.error), "last_seen": last_seen,
        })


def _address_order(device: DeviceInfo) -> tuple[int, ...] | tuple[int, str]:
    parts = device.ip.split(".")
    return tuple(int(p) for p in parts) if len(parts) == 4 and all(p.isdigit() for p in parts) else (999, device.ip)


async def scan(options: ScanOptions, inventory: Inventory | None = None) -> list[DeviceInfo]:
    """The whole scan, for callers that only want the result (the REST API, scripts)."""
    devices: list[DeviceInfo] = []
    async for event in Scanner(options, inventory).events():
        if isinstance(event, ScanFinished):
            devices = event.devices
    return devices
