"""Watching devices: each device's metrics and the live values of an app's signals, as events, until
the caller stops; a device that drops is reached again by itself, with back-off.

Per device, one connection carries everything: an agent session polled for metrics (which also
shows the device answers), and a forwarded channel to the databroker the app talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from sdv_studio.core.deploy.agent_link.client import AgentCallError
from sdv_studio.core.deploy.security.tokens import mint, workstation_key
from sdv_studio.core.deploy.service import DeviceRef
from sdv_studio.core.monitor.events import (
    BrokerDown,
    LinkDown,
    LinkUp,
    MetricsSample,
    MonitorEvent,
    SignalUpdate,
    Subscribed,
)
from sdv_studio.core.monitor.link import DeviceLink, LinkLost, open_link
from sdv_studio.core.monitor.subscription import BrokerError, Metadata, check_paths, updates
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.metrics import DeviceMetrics

DEFAULT_BROKER = "127.0.0.1:55555"
QUEUE_LIMIT = 10_000  # events not yet taken by a slow reader; beyond, the streams wait

Put = Callable[[MonitorEvent], Awaitable[None]]
Job = Callable[[Put], Coroutine[Any, Any, None]]  # runs until cancelled, putting events


@dataclass(frozen=True)
class Watch:
    """What to watch on each device, and how patiently."""

    app: str | None = None  # its signals and its databroker; None: the device's databroker
    signals: tuple[str, ...] = ()  # VSS paths, besides the app's own
    app_signals: bool = True  # subscribe to the signals the app's package lists
    metrics: bool = True  # poll the agent's metrics every ``interval``
    interval: float = 1.0
    history: float = 0.0  # seconds of samples (up to the 900 the device keeps) the first answer brings
    broker: str | None = None  # "host:port" as the device sees it; default: the app's, else 127.0.0.1:55555
    timeout: float = 15.0  # seconds to connect
    stall: float = 5.0  # seconds without an answer before the link counts as lost
    retry: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0)  # seconds between attempts, the last one repeated


Events = AsyncGenerator[MonitorEvent, None]


async def monitor(devices: Sequence[DeviceRef], trust: HostKeyTrust, watch: Watch) -> Events:
    """Every device's events, as they come."""
    def follow(device: DeviceRef) -> Job:
        async def job(put: Put) -> None:
            async with contextlib.aclosing(monitor_device(device, trust, watch)) as events:
                async for event in events:
                    await put(event)
        return job

    async for event in _merged([follow(d) for d in devices]):
        yield event


async def monitor_device(device: DeviceRef, trust: HostKeyTrust, watch: Watch) -> Events:
    """One device's events; after a lost link, LinkDown, a wait, and a new connection."""
    seen = _Seen(time.time() - watch.history if watch.metrics and watch.history > 0 else None)
    failures = 0
    while True:
        try:
            async with open_link(device.target, trust, watch.timeout, watch.stall) as link:
                failures = 0
                yield LinkUp(device.device_id)
                async for event in _merged(_jobs(device.device_id, link, watch, seen)):
                    yield event
        except LinkLost as exc:
            if exc.final:
                yield LinkDown(device.device_id, str(exc), None)
                return
            delay = watch.retry[min(failures, len(watch.retry) - 1)]
            failures += 1
            yield LinkDown(device.device_id, str(exc), delay)
            await asyncio.sleep(delay)


@dataclass
class _Seen:
    """What survives a reconnection: the newest sample already reported, so the next poll asks for
    the ones after it (the device keeps 15 minutes)."""

    since: float | None = None


def _jobs(device_id: str, link: DeviceLink, watch: Watch, seen: _Seen) -> list[Job]:
    """Metrics polled (they also show the device answers), else SSH keepalives; signals streamed."""
    jobs: list[Job] = []
    if watch.metrics:
        jobs.append(lambda put: _poll_metrics(device_id, link, watch, seen, put))
    else:
        jobs.append(lambda put: _keep_alive(link, watch))
    if (watch.app and watch.app_signals) or watch.signals:
        jobs.append(lambda put: _stream_signals(device_id, link, watch, put))
    return jobs


async def _poll_metrics(device_id: str, link: DeviceLink, watch: Watch, seen: _Seen, put: Put) -> None:
    while True:
        started = time.monotonic()
        try:
            answer = await link.call("metrics", {"since": seen.since} if seen.since is not None else {})
        except AgentCallError as exc:  # the agent answers, and fails metrics: asking again would fail again
            raise LinkLost(f"metrics: {exc}", final=True) from exc
        metrics = DeviceMetrics.from_agent(device_id, answer)
        seen.since = metrics.history[-1].t if metrics.history else max(seen.since or 0.0, metrics.timestamp - 1.0)
        await put(MetricsSample(device_id, metrics))
        await asyncio.sleep(max(0.0, watch.interval - (time.monotonic() - started)))


async def _keep_alive(link: DeviceLink, watch: Watch) -> None:
    while True:
        await link.keepalive()
        await asyncio.sleep(watch.interval)


async def _stream_signals(device_id: str, link: DeviceLink, watch: Watch, put: Put) -> None:
    broker, paths, note = await _what_to_watch(link, watch)
    if not paths:
        await put(Subscribed(device_id, broker, (), (), note or "no signals to watch"))
        return
    host, _, port = broker.rpartition(":")
    metadata = await _read_token()
    failures = 0
    while True:
        try:
            with link.reach(host.strip("[]") or "127.0.0.1", int(port)) as address:
                async with grpc.aio.insecure_channel(address) as channel:
                    checked = await check_paths(channel, paths, watch.stall, metadata)
                    await put(Subscribed(device_id, broker, checked.known, checked.unknown, note))
                    failures = 0
                    if not checked.known:
                        return
                    async for update in updates(channel, checked, metadata):
                        await put(SignalUpdate(device_id, update.path, update.value, update.timestamp,
                                               update.received))
        except BrokerError as exc:
            delay = watch.retry[min(failures, len(watch.retry) - 1)]
            failures += 1
            await put(BrokerDown(device_id, broker, str(exc), delay))
            await asyncio.sleep(delay)


async def _read_token() -> Metadata:
    """A read-everything token from this workstation's key: SDV Studio's databroker on a device checks
    tokens signed with it (a broker that checks none ignores it). No usable key: no token."""
    try:
        key = await asyncio.to_thread(workstation_key)
    except (OSError, ValueError):
        return ()
    return (("authorization", f"Bearer {mint(key, 'sdv-studio-monitor', 'read')}"),)


async def _what_to_watch(link: DeviceLink, watch: Watch) -> tuple[str, tuple[str, ...], str]:
    """The databroker, the paths (the app's, then the ones asked for) and a note."""
    broker, listed, note = watch.broker or DEFAULT_BROKER, [], ""
    if watch.app:
        try:
            answer = await link.call("signals", {"name": watch.app})
        except AgentCallError as exc:
            note = f"{exc}: watching only the signals asked for"
        else:
            broker = watch.broker or str(answer.get("broker") or DEFAULT_BROKER)
            listed = [str(p) for p in answer.get("signals") or []] if watch.app_signals else []
    return broker, tuple(dict.fromkeys([*listed, *watch.signals])), note


async def _merged(jobs: Sequence[Job]) -> AsyncIterator[MonitorEvent]:
    """What each job puts, in arrival order. A job's failure ends the whole (the first one raised);
    leaving early stops them all."""
    queue: asyncio.Queue[MonitorEvent | BaseException] = asyncio.Queue(QUEUE_LIMIT)

    async def run(job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
        except Exception as exc:
            await queue.put(exc)

    tasks = [asyncio.create_task(run(job(queue.put))) for job in jobs]
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
