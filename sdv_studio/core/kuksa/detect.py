"""Detect KUKSA databrokers, MQTT brokers and VISS websockets on hosts, concurrently.

Each (host, port) is classified by what actually answers there: a gRPC databroker (plain or
TLS), an MQTT broker, or a VISS websocket. Every host gets a bounded time; ports that are closed
or answer nothing we know are left out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from sdv_studio.core.defaults import BROKER_HOST_TIMEOUT, BROKER_PORT_TIMEOUT, DATABROKER_PORT, MQTT_PORT
from sdv_studio.core.kuksa import grpc_probe, probes
from sdv_studio.models.broker import BrokerKind, KuksaBrokerInfo

# The seed guide's list: MQTT, MQTT over TLS, KUKSA VISS websockets, MQTT over websockets.
COMMON_PORTS = (MQTT_PORT, 8883, 8090, 8091, 9001)
MAX_CONCURRENT_PORTS = 32


def candidate_ports(extra: Iterable[int] = ()) -> list[int]:
    ports = [DATABROKER_PORT, *extra, *COMMON_PORTS]
    return list(dict.fromkeys(ports))


def _simple(host: str, port: int, kind: BrokerKind, started: float, tls: bool) -> KuksaBrokerInfo:
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    return KuksaBrokerInfo(host=host, port=port, kind=kind, response_time=elapsed, tls=tls)


async def classify(host: str, port: int, timeout: float = BROKER_PORT_TIMEOUT) -> KuksaBrokerInfo | None:
    """What answers at host:port, or None if nothing we know does."""
    started = time.perf_counter()
    if not await probes.is_open(host, port, timeout):
        return None
    # Plain MQTT first, before any TLS: an MQTT broker leaves a TLS ClientHello unanswered until the
    # probe's timeout (2 s per deployment that looks for brokers), while a gRPC or TLS server drops
    # a CONNECT at once; and a gRPC probe of an MQTT port would wait for its timeout too.
    if await probes.is_mqtt(host, port, timeout, False):
        return _simple(host, port, "mqtt", started, False)
    certificate = await probes.tls_certificate(host, port, timeout)
    tls = certificate is not None
    if tls and await probes.is_mqtt(host, port, timeout, True):
        return _simple(host, port, "mqtt", started, True)
    findings = await grpc_probe.probe(host, port, timeout, certificate)
    if findings is not None:
        return KuksaBrokerInfo(
            host=host,
            port=port,
            kind="databroker",
            name=findings.name,
            version=findings.version or "unknown",
            response_time=findings.response_ms,
            vss_version=findings.vss_version,
            apis=findings.apis,
            tls=tls,
            auth=findings.auth,
        )
    if await probes.is_viss_websocket(host, port, timeout, tls):
        return _simple(host, port, "viss", started, tls)
    return None


async def detect_host(
    host: str,
    ports: Iterable[int],
    probe_timeout: float = BROKER_PORT_TIMEOUT,
    host_timeout: float = BROKER_HOST_TIMEOUT,
    limit: asyncio.Semaphore | None = None,
) -> list[KuksaBrokerInfo]:
    """Everything found on one host within host_timeout; ports still probing then are dropped."""
    limit = limit or asyncio.Semaphore(MAX_CONCURRENT_PORTS)

    async def one(port: int) -> KuksaBrokerInfo | None:
        async with limit:
            return await classify(host, port, probe_timeout)

    tasks = [asyncio.ensure_future(one(port)) for port in ports]
    done, pending = await asyncio.wait(tasks, timeout=host_timeout) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    found = [task.result() for task in tasks if task in done and task.exception() is None]
    return [info for info in found if info is not None]


async def detect(
    hosts: Iterable[str],
    extra_ports: Iterable[int] = (),
    probe_timeout: float = BROKER_PORT_TIMEOUT,
    host_timeout: float = BROKER_HOST_TIMEOUT,
) -> list[KuksaBrokerInfo]:
    """All hosts at once; results ordered by host as given, then port."""
    ports = candidate_ports(extra_ports)
    limit = asyncio.Semaphore(MAX_CONCURRENT_PORTS)
    unique_hosts = list(dict.fromkeys(hosts))
    per_host = await asyncio.gather(
        *(detect_host(host, ports, probe_timeout, host_timeout, limit) for host in unique_hosts)
    )
    return [info for infos in per_host for info in sorted(infos, key=lambda i: i.port)]
