"""The sweep on the rig: what it finds, and proof it never touches an address outside its ranges."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from ipaddress import IPv4Address, IPv4Network

import pytest

from sdv_studio.core.discovery.ranges import interface_networks, parse_cidrs
from sdv_studio.core.discovery.sweep import Sweep, SweepHit
from tests.core.discovery.conftest import on_lan
from tests.rig.rig import Rig


async def _run(sweep: Sweep) -> list[SweepHit]:
    return [hit async for hit in sweep.hits()]


def _neighbours(rig: Rig) -> set[str]:
    """Addresses the workstation's kernel tried to resolve on the LAN: an observer independent of our code."""
    out = subprocess.run(rig.workstation_argv("ip", "-4", "neigh", "show"), capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.mark.rig
def test_full_24_finds_every_sshd_and_tries_exactly_its_hosts(rig: Rig) -> None:
    net = IPv4Network(rig.sweep_cidr)
    sweep = Sweep([net])
    hits = on_lan(rig, lambda: _run(sweep))
    expected = {d.ip for d in rig.devices.values() if IPv4Address(d.ip) in net}
    assert {h.ip for h in hits} == expected  # d1-d6 and d8; d7 is outside the /24
    assert all(h.banner and h.banner.startswith("SSH-2.0-OpenSSH") for h in hits)
    assert sorted(sweep.attempted, key=IPv4Address) == [str(a) for a in net.hosts()]
    assert len(set(sweep.attempted)) == len(sweep.attempted) == sweep.total == sweep.done == 254


@pytest.mark.rig
def test_sub_range_sweep_stays_inside_it_by_its_record_and_by_the_kernels(rig: Rig) -> None:
    subprocess.run(rig.workstation_argv("ip", "neigh", "flush", "all"), check=True)
    ranges = parse_cidrs(["198.18.0.8/30", "198.18.0.13/32"])  # .9 .10 and .13
    sweep = Sweep(ranges, timeout=0.3)
    hits = on_lan(rig, lambda: _run(sweep))
    allowed = {"198.18.0.9", "198.18.0.10", "198.18.0.13"}
    assert sorted(sweep.attempted) == sorted(allowed)
    assert {h.ip for h in hits} == {rig["d3"].ip}
    assert _neighbours(rig) <= allowed, "the kernel was asked to reach an address outside the ranges"


@pytest.mark.rig
def test_default_ranges_inside_the_workstation_are_the_rigs_24(rig: Rig) -> None:
    with rig.in_workstation():
        assert interface_networks() == [IPv4Network(rig.sweep_cidr)]


def test_loopback_hit_reports_the_banner_and_closed_ports_are_not_hits() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    async def go() -> list[SweepHit]:
        async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"SSH-2.0-Fake_1.0\r\n")
            await writer.drain()
            writer.close()

        srv = await asyncio.start_server(greet, sock=server)
        async with srv:
            return await _run(Sweep(parse_cidrs(["127.0.0.1/32", "127.0.0.2/32"]), port, timeout=0.5))

    hits = asyncio.run(go())
    assert [(h.ip, h.port, h.banner) for h in hits] == [("127.0.0.1", port, "SSH-2.0-Fake_1.0")]
