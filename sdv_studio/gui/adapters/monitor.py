"""Binding to the monitor (sdv_studio.core.monitor): each device's metrics and an app's live signal
values, as the core's events, until the consumer stops.

The stream runs on a loop of its own (``off_loop``): the GUI's loop takes its events in batches.
The Monitor view restarts a watch when the user adds a signal (the core's ``Watch`` is fixed for the
life of a stream); each start asks the devices for the last ``history`` seconds of samples, so the
sparklines are full at once and a restart leaves no hole in them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol

from sdv_studio.gui.adapters.discovery import Approvals, Device
from sdv_studio.gui.adapters.off_loop import batches

# paramiko and grpc load on first use, not with the window.
if TYPE_CHECKING:
    from sdv_studio.core.deploy.service import DeviceRef
    from sdv_studio.core.monitor import MonitorEvent, Watch
    from sdv_studio.core.ssh.trust import HostKeyTrust

HISTORY = 120.0  # seconds of metrics samples the first answer brings


class MonitorEngine(Protocol):
    def watch(self, devices: list[Device], app: str | None, signals: tuple[str, ...]) -> AsyncIterator[MonitorEvent]:
        """Every device's events (named by ``Device.id``): its link, metrics, and the app's signals
        plus ``signals``; a device that drops is reached again by itself."""
        ...


class CoreMonitor:
    def __init__(self, approvals: Approvals, history: float = HISTORY) -> None:
        self.approvals = approvals
        self.history = history

    async def watch(self, devices: list[Device], app: str | None,
                    signals: tuple[str, ...]) -> AsyncIterator[MonitorEvent]:
        from sdv_studio.core.deploy.service import DeviceRef
        from sdv_studio.core.monitor import Watch

        refs = [DeviceRef(d.id, self.approvals.target(d)) for d in devices]
        watch = Watch(app=app, signals=signals, history=self.history)
        async with contextlib.aclosing(relayed(refs, self.approvals.trust(), watch)) as events:
            async for event in events:
                yield event


async def relayed(refs: Sequence[DeviceRef], trust: HostKeyTrust, watch: Watch) -> AsyncGenerator[MonitorEvent, None]:
    """core.monitor's events for the GUI's loop, the stream itself run off it."""
    from sdv_studio.core.monitor import monitor

    stream = batches(lambda: monitor(refs, trust, watch), "sdv-monitor")
    async with contextlib.aclosing(stream):
        async for batch in stream:
            for event in batch:
                yield event


def default_engine(approvals: Approvals) -> MonitorEngine:
    return CoreMonitor(approvals)
