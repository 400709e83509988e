"""Detection on loopback: closed ports are skipped, unknown services are not misreported."""

from __future__ import annotations

import asyncio
import socket

from sdv_studio.core.kuksa import detect
from tests.broker.helpers import broker_process, free_port


async def test_closed_and_silent_ports_are_not_brokers() -> None:
    assert await detect.classify("127.0.0.1", free_port(), timeout=1) is None
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        assert await detect.classify("127.0.0.1", silent.getsockname()[1], timeout=0.5) is None


def test_candidate_ports_put_databroker_first() -> None:
    ports = detect.candidate_ports([1883, 40000])
    assert ports[0] == 55555 and ports.count(1883) == 1 and 40000 in ports and 8090 in ports


def test_detect_is_bounded_per_host() -> None:
    with broker_process() as info:
        found = asyncio.run(detect.detect(["127.0.0.1"], [info["port"]], probe_timeout=1, host_timeout=8))
    assert info["port"] in {b.port for b in found}
