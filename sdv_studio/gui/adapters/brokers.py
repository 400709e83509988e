"""Binding to KUKSA detection (sdv_studio.core.kuksa.on_device): brokers per device, as each answers.

Each device is probed *on* the device, through its SSH connection, so a databroker bound to the
device's loopback (KUKSA's default) is found: the same detection the Devices step's KUKSA column
comes from. "Test connection" asks a detected broker's port on its own device the same way (``test_on``),
and a typed address from this computer, as the app on another device would reach it (``test``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from sdv_studio.core.defaults import BROKER_HOST_TIMEOUT, BROKER_PORT_TIMEOUT
from sdv_studio.core.errors import OperationFailed
from sdv_studio.models.broker import KuksaBrokerInfo

if TYPE_CHECKING:
    from sdv_studio.gui.adapters.discovery import Approvals, Device

# core.kuksa.detect (grpc) and the SSH layer load on first use, not with the window.

__all__ = ["BrokerEngine", "CoreBrokers", "DeviceUnreachable", "KuksaBrokerInfo", "default_engine"]


class DeviceUnreachable(OperationFailed):
    """A device could not be asked (SSH failed); the others' brokers are still reported."""


class BrokerEngine(Protocol):
    def detect(self, devices: list[Device]) -> AsyncIterator[KuksaBrokerInfo | DeviceUnreachable]: ...

    async def test(self, host: str, port: int) -> KuksaBrokerInfo | None: ...

    async def test_on(self, device: Device, port: int) -> KuksaBrokerInfo | None:
        """What answers on ``port`` of ``device``, its loopback included; raises DeviceUnreachable."""
        ...


class CoreBrokers:
    def __init__(self, approvals: Approvals, probe_timeout: float = BROKER_PORT_TIMEOUT,
                 host_timeout: float = BROKER_HOST_TIMEOUT) -> None:
        self._approvals = approvals
        self._probe_timeout = probe_timeout
        self._host_timeout = host_timeout

    async def _one(self, device: Device) -> list[KuksaBrokerInfo] | DeviceUnreachable:
        from sdv_studio.core.kuksa.on_device import detect_at
        from sdv_studio.core.ssh import SshError

        try:
            return await detect_at(self._approvals.target(device), self._approvals.trust(), (),
                                   self._probe_timeout, self._host_timeout)
        except (SshError, TimeoutError) as exc:
            return DeviceUnreachable(f"{device.name}: {exc}")

    async def detect(self, devices: list[Device]) -> AsyncIterator[KuksaBrokerInfo | DeviceUnreachable]:
        jobs = [asyncio.ensure_future(self._one(d)) for d in devices]
        try:
            for next_done in asyncio.as_completed(jobs):
                result = await next_done
                if isinstance(result, DeviceUnreachable):
                    yield result
                    continue
                for info in result:
                    yield info
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)

    async def test(self, host: str, port: int) -> KuksaBrokerInfo | None:
        from sdv_studio.core.kuksa import detect

        return await detect.classify(host, port, self._probe_timeout)

    async def test_on(self, device: Device, port: int) -> KuksaBrokerInfo | None:
        from sdv_studio.core.kuksa.on_device import classify_at
        from sdv_studio.core.ssh import SshError

        try:
            return await classify_at(self._approvals.target(device), self._approvals.trust(), port,
                                     self._probe_timeout, self._host_timeout)
        except (SshError, TimeoutError) as exc:
            raise DeviceUnreachable(f"{device.name}: {exc}") from exc


def default_engine(approvals: Approvals) -> BrokerEngine:
    return CoreBrokers(approvals)
