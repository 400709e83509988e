"""Device discovery: mDNS, an IP sweep and an SSH capability probe, merged into DeviceInfo records;
adding a device by hand."""

from sdv_studio.core.discovery.add_device import DeviceEntry, probe_and_save, save_device
from sdv_studio.core.discovery.events import DeviceFound, DeviceUpdated, ScanEvent, ScanFinished, ScanProgress
from sdv_studio.core.discovery.mdns import MdnsService, browse
from sdv_studio.core.discovery.probe import ProbeResult, probe
from sdv_studio.core.discovery.ranges import RangeError, interface_networks, parse_cidrs
from sdv_studio.core.discovery.scanner import Scanner, ScanOptions, scan
from sdv_studio.core.discovery.sweep import Sweep, SweepHit

__all__ = [
    "DeviceEntry",
    "DeviceFound",
    "DeviceUpdated",
    "MdnsService",
    "ProbeResult",
    "RangeError",
    "ScanEvent",
    "ScanFinished",
    "ScanOptions",
    "ScanProgress",
    "Scanner",
    "Sweep",
    "SweepHit",
    "browse",
    "interface_networks",
    "parse_cidrs",
    "probe",
    "probe_and_save",
    "save_device",
    "scan",
]
