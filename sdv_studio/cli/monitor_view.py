"""What ``metrics`` and ``monitor`` print for people: rich tables of each device and app, and of the
signals' latest values per device; one plain line per event where the output is not a terminal."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from sdv_studio.core.discovery.classify import human_size
from sdv_studio.core.monitor import (
    BrokerDown,
    LinkDown,
    LinkUp,
    MetricsSample,
    MonitorEvent,
    SignalUpdate,
    Subscribed,
)
from sdv_studio.core.monitor.subscription import SignalValue
from sdv_studio.models.metrics import AppMetrics, DeviceMetrics

DASH = "–"
WIDE = 200  # columns when the output is not a terminal: a table is not squeezed into 80


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else WIDE, highlight=False)
_STATUS_STYLE = {"running": "green", "degraded": "yellow", "crashed": "red", "scheduled": "dim"}


def value_text(value: SignalValue) -> str:
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _num(value: float | None, unit: str = "", digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}{unit}"


def _memory(app: AppMetrics) -> str:
    if app.rss is None:
        return DASH
    limit = f" / {human_size(app.memory_limit)}" if app.memory_limit else ""
    return f"{human_size(app.rss)}{limit}"


def _latency(app: AppMetrics) -> str:
    latency = app.kuksa_latency
    if latency is None or latency.p50 is None:
        return DASH
    return f"{latency.p50:.3g} / {latency.p95:.3g} ms"


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    whole = int(seconds)
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m" if whole >= 3600 else f"{whole // 60}m{whole % 60:02d}s"


def apps_table(rows: list[tuple[str, str, DeviceMetrics | None]], only: str | None = None) -> Table:
    """One row per (device, app); a device with no figures (unreachable, nothing running) gets one row
    saying why."""
    table = Table(expand=False, pad_edge=False)
    for column in ("device", "link", "CPU", "mem", "app", "status", "CPU %", "memory", "restarts", "up",
                   "updates/s", "errors", "KUKSA p50 / p95"):
        table.add_column(column, justify="right" if column in ("CPU %", "restarts", "updates/s", "errors") else "left",
                         no_wrap=True)
    for device_id, link, metrics in rows:
        device_cells = [device_id, link, _num(metrics.cpu_usage, "%") if metrics else DASH,
                        _num(metrics.memory_usage, "%") if metrics else DASH]
        apps = [a for a in (metrics.apps if metrics else []) if only in (None, a.name)]
        if not apps:
            table.add_row(*device_cells, DASH, "no app" if metrics else "", *[""] * 7)
        for app in apps:
            status = Text(app.status, style=_STATUS_STYLE.get(app.status, ""))
            table.add_row(*device_cells, app.name, status, _num(app.cpu_usage), _memory(app), str(app.restarts),
                          _uptime(app.uptime), _num(app.signal_updates_per_second),
                          DASH if app.errors is None else str(app.errors), _latency(app))
            device_cells = ["", "", "", ""]
    return table


@dataclass
class LiveState:
    """What ``monitor`` shows: each device's link and latest metrics, each signal's latest value."""

    app: str
    devices: list[str]
    links: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, DeviceMetrics] = field(default_factory=dict)
    signals: dict[str, dict[str, SignalUpdate]] = field(default_factory=dict)  # path -> device -> update
    notes: dict[str, str] = field(default_factory=dict)

    def take(self, event: MonitorEvent) -> None:
        device = event.device_id
        if isinstance(event, LinkUp):
            self.links[device] = "up"
        elif isinstance(event, LinkDown):
            self.links[device] = "down" if event.retry_in is not None else "given up"
            self.notes[device] = event.reason
        elif isinstance(event, MetricsSample):
            self.metrics[device] = event.metrics
            self.notes.pop(device, None)
        elif isinstance(event, Subscribed):
            for path in event.signals:
                self.signals.setdefault(path, {})
            self.notes[device] = "; ".join(filter(None, [
                event.note, f"not signals on {event.broker}: {', '.join(event.unknown)}" if event.unknown else ""]))
        elif isinstance(event, BrokerDown):
            self.notes[device] = f"databroker {event.broker}: {event.reason}"
        elif isinstance(event, SignalUpdate):
            self.signals.setdefault(event.path, {})[device] = event

    def render(self) -> Group:
        rows = [(d, self.links.get(d, "connecting"), self.metrics.get(d)) for d in self.devices]
        parts: list[Table | Text] = [apps_table(rows, self.app)]
        if self.signals:
            parts.append(self._signals_table())
        parts += [Text(f"{d}: {note}", style="yellow") for d, note in self.notes.items() if note]
        return Group(*parts)

    def _signals_table(self) -> Table:
        table = Table(pad_edge=False)
        table.add_column("signal", no_wrap=True)
        for device in self.devices:
            table.add_column(device, no_wrap=True)
        now = time.time()
        for path in sorted(self.signals):
            cells = []
            for device in self.devices:
                update = self.signals[path].get(device)
                if update is None:
                    cells.append(DASH)
                    continue
                age = now - (update.timestamp or update.received)
                cells.append(f"{value_text(update.value)}  ({age:.0f}s ago)" if age >= 1 else value_text(update.value))
            table.add_row(path, *cells)
        return table


def event_line(event: MonitorEvent, app: str) -> str | None:
    """A plain line per event, for output that is not a terminal."""
    device = event.device_id
    if isinstance(event, LinkUp):
        return f"{device}: connected"
    if isinstance(event, LinkDown):
        retry = f"; again in {event.retry_in:g}s" if event.retry_in is not None else "; given up"
        return f"{device}: link down: {event.reason}{retry}"
    if isinstance(event, Subscribed):
        unknown = f" (not signals there: {', '.join(event.unknown)})" if event.unknown else ""
        note = f"; {event.note}" if event.note else ""
        return f"{device}: watching {len(event.signals)} signal(s) on {event.broker}{unknown}{note}"
    if isinstance(event, BrokerDown):
        return f"{device}: databroker {event.broker}: {event.reason}; again in {event.retry_in:g}s"
    if isinstance(event, SignalUpdate):
        return f"{device}: {event.path} = {value_text(event.value)}"
    found = event.metrics.app(app)
    if found is None:
        return f"{device}: cpu {_num(event.metrics.cpu_usage, '%')}, no app {app} running"
    errors = DASH if found.errors is None else found.errors
    return (f"{device}: {app} {found.status}, cpu {_num(found.cpu_usage, '%')}, memory {_memory(found)}, "
            f"updates/s {_num(found.signal_updates_per_second)}, errors {errors}, KUKSA {_latency(found)}")
