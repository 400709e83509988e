"""What a scan reports, as it happens: the GUI binds these to its list, the CLI prints them."""

from __future__ import annotations

from dataclasses import dataclass

from sdv_studio.models.device import DeviceInfo


@dataclass(frozen=True)
class DeviceFound:
    """First sight of an address (from mDNS, the sweep or the inventory); a probe follows."""

    device: DeviceInfo


@dataclass(frozen=True)
class DeviceUpdated:
    """New facts about a device already reported: probe results, mDNS properties, errors."""

    device: DeviceInfo


@dataclass(frozen=True)
class ScanProgress:
    swept: int  # addresses tried so far
    sweep_total: int
    probed: int
    probes_started: int


@dataclass(frozen=True)
class ScanFinished:
    devices: list[DeviceInfo]  # sorted by address
    elapsed: float  # seconds
    cancelled: bool = False


ScanEvent = DeviceFound | DeviceUpdated | ScanProgress | ScanFinished
