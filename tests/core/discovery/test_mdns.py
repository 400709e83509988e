"""mDNS browse against real zeroconf announcements from inside rig devices."""

from __future__ import annotations

import pytest

from sdv_studio.core.discovery.mdns import AGENT_SERVICE, WORKSTATION_SERVICE, MdnsService, browse
from tests.core.discovery.conftest import advertise, on_lan
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig


def test_browse_reads_agent_txt_and_maps_workstation_to_ssh_port(rig: Rig) -> None:
    d7, d6 = rig["d7"], rig["d6"]
    agent_props = {"agent": "1.0.0", "arch": "x86_64", "type": "automotive-prototype"}

    async def collect() -> dict[str, MdnsService]:
        return {s.instance: s async for s in browse(2.5)}

    with advertise(d7, AGENT_SERVICE, "ecu-7", 22, agent_props), \
            advertise(d6, WORKSTATION_SERVICE, "d6 [00:11:22:33:44:55]", 9, {}):
        found = on_lan(rig, collect)
    ecu, board = found["ecu-7"], found["d6"]
    assert ecu.addresses == (d7.ip,) and ecu.ssh_port == 22 and ecu.server == "d7.local."
    assert ecu.properties == agent_props and ecu.service_type == AGENT_SERVICE
    assert board.addresses == (d6.ip,) and board.ssh_port == 22  # port 9 is the discard service, not SSH
