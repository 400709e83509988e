"""core.monitor against This computer's agent and a real databroker: metrics, live signal values with
the broker's timestamps, unknown paths named, and a databroker that goes away and comes back."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kuksa_client.grpc import Datapoint, VSSClient

from sdv_studio.core.deploy import DeviceRef
from sdv_studio.core.deploy.agent_link.local_target import local_target
from sdv_studio.core.monitor import (
    BrokerDown,
    LinkUp,
    MetricsSample,
    MonitorEvent,
    SignalUpdate,
    Subscribed,
    Watch,
    event_to_json,
    monitor,
    sample_metrics,
)
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.broker.helpers import free_port

SPEED = "Vehicle.Speed"
THIS_COMPUTER = DeviceRef("local", local_target())


@pytest.fixture
def trust(tmp_path: Path) -> HostKeyTrust:
    return HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)


def start_broker(port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "sdv_studio", "broker", "--port", str(port), "--no-mqtt"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None and "listening" in proc.stdout.readline()
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


async def next_of(events: AsyncIterator[MonitorEvent], kind: type, timeout: float = 30,
                  where: object = lambda _e: True) -> MonitorEvent:
    async with asyncio.timeout(timeout):
        async for event in events:
            if isinstance(event, kind) and where(event):  # type: ignore[operator]
                return event
    raise AssertionError(f"the stream ended before a {kind.__name__}")


def set_speed(port: int, speed: float) -> None:
    with VSSClient("127.0.0.1", port) as client:
        client.set_current_values({SPEED: Datapoint(speed)})


async def test_metrics_once(local_target_home: Path, trust: HostKeyTrust) -> None:
    metrics = await sample_metrics(THIS_COMPUTER, trust, 30)
    assert metrics.device_id == "local" and metrics.memory["total"] > 0 and metrics.apps == []
    body = metrics.to_json_dict()
    assert body["deviceId"] == "local" and "cpu_usage" in body and "memory_usage" in body


async def test_signals_stream_and_resume_when_the_broker_returns(local_target_home: Path, trust: HostKeyTrust) -> None:
    port = free_port()
    broker = start_broker(port)
    watch = Watch(broker=f"127.0.0.1:{port}", signals=(SPEED, "Vehicle.NoSuchSignal", "Vehicle.Cabin"),
                  retry=(0.2, 0.5))
    events = monitor([THIS_COMPUTER], trust, watch)
    try:
        assert isinstance(await next_of(events, LinkUp), LinkUp)
        subscribed = await next_of(events, Subscribed)
        assert subscribed.signals == (SPEED,) and subscribed.unknown == ("Vehicle.NoSuchSignal", "Vehicle.Cabin")
        assert subscribed.broker == f"127.0.0.1:{port}"
        first = await next_of(events, SignalUpdate)
        assert first.path == SPEED and first.value is None  # no value yet: the broker says so at once
        before = time.time()
        await asyncio.to_thread(set_speed, port, 42.5)
        update = await next_of(events, SignalUpdate, where=lambda e: e.value == 42.5)
        assert update.device_id == "local" and update.timestamp is not None
        assert before - 1 <= update.timestamp <= update.received <= time.time()
        assert event_to_json(update) == {"kind": "signal", "deviceId": "local", "path": SPEED, "value": 42.5,
                                         "timestamp": update.timestamp, "received": update.received}
        metrics = await next_of(events, MetricsSample)
        assert event_to_json(metrics)["kind"] == "metrics" and event_to_json(metrics)["deviceId"] == "local"

        stop(broker)
        down = await next_of(events, BrokerDown)
        assert down.broker == f"127.0.0.1:{port}" and ("UNAVAILABLE" in down.reason or "ended" in down.reason)
        broker = start_broker(port)
        again = await next_of(events, Subscribed)
        assert again.signals == (SPEED,)
        await asyncio.to_thread(set_speed, port, 77.0)
        assert (await next_of(events, SignalUpdate, where=lambda e: e.value == 77.0)).path == SPEED
    finally:
        with contextlib.suppress(Exception):
            await events.aclose()
        stop(broker)


async def test_an_app_not_on_the_device_is_said_and_the_signals_asked_for_still_stream(
        local_target_home: Path, trust: HostKeyTrust) -> None:
    port = free_port()
    broker = start_broker(port)
    events = monitor([THIS_COMPUTER], trust, Watch(app="not-here", broker=f"127.0.0.1:{port}", signals=(SPEED,),
                                                   metrics=False))
    try:
        subscribed = await next_of(events, Subscribed)
        assert subscribed.signals == (SPEED,) and "no app named not-here" in subscribed.note
    finally:
        await events.aclose()
        stop(broker)
