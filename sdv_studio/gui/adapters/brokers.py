"""Binding to KUKSA detection (sdv_studio.core.kuksa_detect): brokers per host, as each host answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from sdv_studio.models.broker import KuksaBrokerInfo

# kuksa_detect (grpc) loads on first use, not with the window.
PROBE_TIMEOUT = 2.0
HOST_TIMEOUT = 10.0

__all__ = ["BrokerEngine", "CoreBrokers", "KuksaBrokerInfo", "default_engine"]


class BrokerEngine(Protocol):
    def detect(self, hosts: list[str]) -> AsyncIterator[KuksaBrokerInfo]: ...

    async def test(self, host: str, port: int) -> KuksaBrokerInfo | None: ...


class CoreBrokers:
    def __init__(self, probe_timeout: float = PROBE_TIMEOUT, host_timeout: float = HOST_TIMEOUT) -> None:
        self._probe_timeout = probe_timeout
        self._host_timeout = host_timeout

    async def detect(self, hosts: list[str]) -> AsyncIterator[KuksaBrokerInfo]:
        from sdv_studio.core import kuksa_detect

        ports = kuksa_detect.candidate_ports()
        limit = asyncio.Semaphore(kuksa_detect.MAX_CONCURRENT_PORTS)
        jobs = [asyncio.ensure_future(kuksa_detect.detect_host(h, ports, self._probe_timeout, self._host_timeout,
                                                               limit)) for h in dict.fromkeys(hosts)]
        try:
            for next_done in asyncio.as_completed(jobs):
                for info in sorted(await next_done, key=lambda i: i.port):
                    yield info
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)

    async def test(self, host: str, port: int) -> KuksaBrokerInfo | None:
        from sdv_studio.core import kuksa_detect

        return await kuksa_detect.classify(host, port, self._probe_timeout)


def default_engine() -> BrokerEngine:
    return CoreBrokers()
