"""Whole scans on the rig: real sshd, real zeroconf, real engines; no mocks."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from sdv_studio.core.discovery import (
    DeviceFound,
    DeviceUpdated,
    ScanEvent,
    ScanFinished,
    Scanner,
    ScanOptions,
    ScanProgress,
)
from sdv_studio.core.discovery.mdns import AGENT_SERVICE, SSH_SERVICE
from sdv_studio.core.inventory import Inventory, SavedDevice
from sdv_studio.core.ssh import HostKeyTrust, KnownHosts
from sdv_studio.models.device import DeviceInfo
from tests.core.discovery.conftest import advertise, on_lan
from tests.core.kuksa.device_broker import broker_on
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig


def options(rig: Rig, tmp_path: Path, **kw: object) -> ScanOptions:
    defaults: dict[str, object] = {
        "cidrs": [rig.sweep_cidr],
        "user": rig.user,
        "key_file": rig.key_path,
        "trust": HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True),
        "mdns_duration": 2.5,
    }
    return ScanOptions(**{**defaults, **kw})  # type: ignore[arg-type]


def run_scan(rig: Rig, scanner: Scanner) -> list[ScanEvent]:
    async def go() -> list[ScanEvent]:
        return [event async for event in scanner.events()]

    return on_lan(rig, go)


def by_ip(devices: list[DeviceInfo]) -> dict[str, DeviceInfo]:
    return {d.ip: d for d in devices}


def test_full_scan_finds_types_runtimes_mdns_only_device_and_the_refusing_one(rig: Rig, tmp_path: Path) -> None:
    inventory = Inventory(tmp_path / "devices.json")
    with advertise(rig["d7"], SSH_SERVICE, "d7", 22, {}):
        scanner = Scanner(options(rig, tmp_path), inventory)
        events = run_scan(rig, scanner)

    finished = events[-1]
    assert isinstance(finished, ScanFinished) and not finished.cancelled
    assert sum(isinstance(e, ScanFinished) for e in events) == 1
    devices = by_ip(finished.devices)
    working = {f"d{i}": devices[rig[f"d{i}"].ip] for i in range(1, 7)}
    for name, dev in working.items():
        assert dev.status == "online" and dev.compatible, (name, dev.reason)
        assert dev.hostname == name and dev.architecture == "x86_64" and dev.python and dev.python_venv
        assert dev.host_key_fingerprint and dev.host_key_fingerprint.startswith("SHA256:")
    assert working["d1"].type == "jetson-orin" and working["d1"].capabilities.gpu
    assert {n for n, d in working.items() if d.type == "linux-generic"} == {"d2", "d3", "d4", "d5", "d6"}
    # docker only where the login user can reach an engine (d2, d3 have podman and the docker group)
    assert {n: d.runtime for n, d in working.items()} == {
        "d1": "native", "d2": "both", "d3": "both", "d4": "native", "d5": "native", "d6": "native",
    }
    assert working["d2"].capabilities.docker_version and not working["d4"].capabilities.docker_version
    assert all(d.capabilities.memory_bytes and d.capabilities.storage_bytes for d in working.values())

    d7 = devices[rig["d7"].ip]  # outside the swept /24: found by mDNS only, then probed
    assert d7.status == "online" and d7.hostname == "d7" and d7.sources == ["mdns", "probe"]

    d8 = devices[rig["d8"].ip]
    assert d8.status == "error" and d8.type == "unknown"
    assert d8.reason and "authentication refused" in d8.reason and str(rig.key_path) in d8.reason

    assert set(devices) == {d.ip for d in rig.devices.values()}
    swept = IPv4Network(rig.sweep_cidr)
    assert scanner.sweep.attempted and all(IPv4Address(a) in swept for a in scanner.sweep.attempted)
    assert rig["d7"].ip not in scanner.sweep.attempted

    # every device is first Found, then Updated with its probe; progress reaches the end
    first: dict[str, type] = {}
    for event in events:
        if isinstance(event, DeviceFound | DeviceUpdated):
            first.setdefault(event.device.ip, type(event))
    assert set(first.values()) == {DeviceFound}
    progress = [e for e in events if isinstance(e, ScanProgress)]
    assert progress[-1].swept == progress[-1].sweep_total == 254
    assert progress[-1].probed == progress[-1].probes_started == 8


def test_agent_txt_type_makes_an_automotive_prototype(rig: Rig, tmp_path: Path) -> None:
    props = {"agent": "1.0.0", "arch": "x86_64", "type": "automotive-prototype"}
    with advertise(rig["d7"], AGENT_SERVICE, "ecu-7", 22, props):
        scanner = Scanner(options(rig, tmp_path, use_sweep=False), Inventory(tmp_path / "devices.json"))
        events = run_scan(rig, scanner)
    finished = events[-1]
    assert isinstance(finished, ScanFinished)
    # Devices that earlier tests deployed to advertise themselves too: pick the one advertised here.
    [ecu] = [d for d in finished.devices if d.ip == rig["d7"].ip]
    assert (ecu.name, ecu.type, ecu.status, ecu.properties) == ("ecu-7", "automotive-prototype", "online", props)


def test_inventory_devices_merge_by_address_and_absent_ones_are_offline(rig: Rig, tmp_path: Path) -> None:
    inventory = Inventory(tmp_path / "devices.json")
    inventory.add(SavedDevice(id="bench-d4", name="Bench board", host=rig["d4"].ip, user=rig.user,
                              key_file=str(rig.key_path)))
    inventory.add(SavedDevice(id="gone", name="Unplugged", host="198.18.0.201", user=rig.user))
    scanner = Scanner(options(rig, tmp_path, cidrs=["198.18.0.12/30"], use_mdns=False, user=None, key_file=None,
                              probe_timeout=2.0), inventory)
    finished = run_scan(rig, scanner)[-1]
    assert isinstance(finished, ScanFinished)
    devices = by_ip(finished.devices)
    bench = devices[rig["d4"].ip]
    assert (bench.id, bench.name, bench.status, bench.sources) == ("bench-d4", "Bench board", "online",
                                                                    ["inventory", "sweep", "probe"])
    gone = devices["198.18.0.201"]
    assert gone.status == "offline" and gone.reason and gone.id == "gone"
    assert inventory.get("bench-d4").last_seen is not None  # type: ignore[union-attr]
    assert inventory.get("gone").last_seen is None  # type: ignore[union-attr]


def test_unknown_host_keys_are_not_trusted_without_consent(rig: Rig, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"))
    scanner = Scanner(options(rig, tmp_path, cidrs=[rig["d5"].ip], use_mdns=False, trust=trust),
                      Inventory(tmp_path / "devices.json"))
    finished = run_scan(rig, scanner)[-1]
    assert isinstance(finished, ScanFinished)
    [d5] = finished.devices
    assert d5.status == "error" and d5.reason and "not trusted yet" in d5.reason and "SHA256:" in d5.reason
    assert not (tmp_path / "known_hosts").exists()


def test_kuksa_is_a_databroker_answering_on_the_device(rig: Rig, tmp_path: Path) -> None:
    # d7 never receives deployments (other tests leave databrokers on d1-d6), so this test
    # alone decides what listens on its 55555. A port that is open but answers no databroker
    # API is not KUKSA: the Devices step and the Kuksa step must agree.
    device = rig["d7"]
    listen = "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',55555)); s.listen(); time.sleep(30)"

    def kuksa_seen() -> bool:
        scanner = Scanner(options(rig, tmp_path, cidrs=[device.ip], use_mdns=False),
                          Inventory(tmp_path / "devices.json"))
        finished = run_scan(rig, scanner)[-1]
        assert isinstance(finished, ScanFinished)
        return by_ip(finished.devices)[device.ip].capabilities.kuksa

    with broker_on(device):  # on the device's loopback, as KUKSA binds by default
        assert kuksa_seen()
    pid = device.run(f"python3 -c \"{listen}\" >/dev/null 2>&1 & echo $!", user=rig.user).stdout.strip()
    try:
        assert not kuksa_seen()
    finally:
        device.run(f"kill {pid}; while kill -0 {pid} 2>/dev/null; do sleep 0.05; done")


def test_cancel_ends_the_stream_with_what_was_found(rig: Rig, tmp_path: Path) -> None:
    scanner = Scanner(options(rig, tmp_path, mdns_duration=30.0), Inventory(tmp_path / "devices.json"))

    async def go() -> list[ScanEvent]:
        seen: list[ScanEvent] = []
        async with asyncio.timeout(10):
            async for event in scanner.events():
                seen.append(event)
                if isinstance(event, DeviceFound):
                    scanner.cancel()
        return seen

    events = on_lan(rig, go)
    finished = events[-1]
    assert isinstance(finished, ScanFinished) and finished.cancelled
    assert finished.devices


def test_default_ranges_are_the_workstations_subnet(rig: Rig, tmp_path: Path) -> None:
    with rig.in_workstation():
        scanner = Scanner(options(rig, tmp_path, cidrs=None, use_mdns=False), Inventory(tmp_path / "devices.json"))
    assert scanner.networks == [IPv4Network(rig.sweep_cidr)]
    finished = run_scan(rig, scanner)[-1]
    assert isinstance(finished, ScanFinished)
    assert len([d for d in finished.devices if d.status == "online"]) == 6
    assert all(IPv4Address(a) in IPv4Network(rig.sweep_cidr) for a in scanner.sweep.attempted)
