"""What the Monitor view shows, apart from how it is drawn (Qt-free): each device's link and figures,
and each signal's values per device over the last 15 minutes, with a gap wherever the device (or its
databroker) could not be heard.

Times are this machine's clock (when an update arrived), so devices whose clocks disagree still
line up on one axis; each value keeps the databroker's own timestamp beside it for the CSV export.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sdv_studio.core.monitor import MonitorEvent
    from sdv_studio.models.metrics import AppMetrics, DeviceMetrics, HistoryPoint

RETENTION = 16 * 60.0  # seconds kept: the longest window (15 min) and a minute to spare
GAP = math.nan

Kind = Literal["number", "bool", "state"]
Floats = npt.NDArray[np.float64]


def kind_of(value: object) -> Kind:
    """Booleans are drawn as steps, numbers as lines, anything else (enums, strings, arrays) as a state lane."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "state"


def value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


class Trace:
    """One series: times, the databroker's timestamps (NaN when it gave none) and values, in arrays
    that grow by doubling and drop what is older than RETENTION. A NaN value is a gap; a state
    series keeps its values' text in ``labels`` ("" elsewhere) beside a code per distinct text."""

    def __init__(self, kind: Kind | None = None) -> None:
        self.kind = kind
        self._t = np.empty(64)
        self._ts = np.empty(64)
        self._v = np.empty(64)
        self.labels: list[str] = []
        self._codes: dict[str, int] = {}
        self.n = 0

    def add(self, t: float, value: object, stamp: float | None = None) -> None:
        if value is None:
            self.gap(t)
            return
        if self.kind is None:
            self.kind = kind_of(value)
        if self.kind == "state":
            text = value_text(value)
            self._push(t, stamp, float(self._codes.setdefault(text, len(self._codes))), text)
        elif isinstance(value, int | float):
            self._push(t, stamp, float(value), "")
        else:  # a number signal that sent something else: not drawable as a number
            self._push(t, stamp, GAP, "")

    def gap(self, t: float) -> None:
        """Nothing is known from ``t`` on, until the next value (a repeated gap adds nothing)."""
        if self.n and math.isnan(self._v[self.n - 1]):
            return
        self._push(t, None, GAP, "")

    @property
    def t(self) -> Floats:
        return self._t[:self.n]

    @property
    def v(self) -> Floats:
        return self._v[:self.n]

    @property
    def stamps(self) -> Floats:
        return self._ts[:self.n]

    def last_value(self) -> float:
        return float(self._v[self.n - 1]) if self.n else GAP

    def first_index(self, start: float) -> int:
        """The first point to draw from ``start`` on: the one in force at ``start`` (a step that began
        before the window is still on screen), else the first after it."""
        return max(int(np.searchsorted(self.t, start, side="right")) - 1, 0)

    def values(self) -> set[object]:
        """Every value held (as given: True/False for a boolean series, texts for a state one)."""
        held = self.v[~np.isnan(self.v)]
        if self.kind == "bool":
            return {bool(x) for x in held}
        if self.kind == "state":
            return {label for label in self.labels if label}
        return {float(x) for x in held}

    def _push(self, t: float, stamp: float | None, value: float, label: str) -> None:
        if self.n == len(self._t):
            self._make_room(t)
        self._t[self.n], self._v[self.n] = t, value
        self._ts[self.n] = GAP if stamp is None else stamp
        self.labels.append(label)
        self.n += 1

    def _make_room(self, now: float) -> None:
        old = int(np.searchsorted(self.t, now - RETENTION)) - 1  # keep the one in force at the cut
        if old > self.n // 4:
            keep = slice(old, self.n)
            self.n -= old
            for array in (self._t, self._ts, self._v):
                array[:self.n] = array[keep]
            del self.labels[:old]
            return
        for name in ("_t", "_ts", "_v"):
            grown = np.empty(2 * len(self._t))
            grown[:self.n] = getattr(self, name)[:self.n]
            setattr(self, name, grown)


LinkState = Literal["connecting", "up", "down", "given-up"]


@dataclass
class DeviceState:
    id: str
    name: str
    link: LinkState = "connecting"
    problem: str = ""  # why the device, or its databroker, is not heard; "" while all is well
    retry_in: float | None = None
    broker: str = ""
    signals: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    note: str = ""
    metrics: DeviceMetrics | None = None
    cpu: Trace = field(default_factory=lambda: Trace("number"))  # the app's % of a core, else the device's %
    memory: Trace = field(default_factory=lambda: Trace("number"))  # the app's RSS in MB, else the device's %
    last_sample: float = 0.0  # the device's clock: samples up to here are in ``cpu`` and ``memory``
    last_heard: float = 0.0  # this machine's clock: when the device last answered or sent a value
    streaming: bool = False  # subscribed, and its databroker answers
    version: int = 0  # counts the changes a card shows (all but signal values)

    @property
    def heard(self) -> bool:
        """Values arrive: a trace's last value holds until now."""
        return self.link == "up" and self.streaming


class MonitorModel:
    """Fed the core's monitor events; ``changes`` counts every change so a view redraws only when there is news."""

    def __init__(self, devices: Sequence[tuple[str, str]], app: str | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.clock = clock
        self.devices = {device_id: DeviceState(device_id, name) for device_id, name in devices}
        self.paths: list[str] = []  # every signal known of, the app's first
        self.traces: dict[tuple[str, str], Trace] = {}
        self.changes = 0

    def add_path(self, path: str) -> bool:
        if path in self.paths:
            return False
        self.paths.append(path)
        self.changes += 1
        return True

    def trace(self, device_id: str, path: str) -> Trace | None:
        return self.traces.get((device_id, path))

    def kind(self, path: str) -> Kind | None:
        """What the signal's values are, from the first device that sent one."""
        return next((t.kind for (_d, p), t in self.traces.items() if p == path and t.kind), None)

    def app_metrics(self, device_id: str) -> AppMetrics | None:
        metrics = self.devices[device_id].metrics
        return metrics.app(self.app) if metrics and self.app else None

    # -- events --------------------------------------------------------------------------------

    def take(self, event: MonitorEvent) -> None:
        state = self.devices.get(event.device_id)
        if state is None:
            return
        self.changes += 1
        if event.kind != "signal":
            state.version += 1
        if event.kind not in ("link-down", "broker-down"):
            state.last_heard = self.clock()
        if event.kind == "signal":
            trace = self.traces.setdefault((state.id, event.path), Trace())
            trace.add(event.received, event.value, event.timestamp)
            self.add_path(event.path)
        elif event.kind == "metrics":
            self._sampled(state, event.metrics)
        elif event.kind == "link-up":
            state.link, state.problem, state.retry_in = "up", "", None
        elif event.kind == "link-down":
            state.link = "down" if event.retry_in is not None else "given-up"
            state.problem, state.retry_in = event.reason, event.retry_in
            self._silent(state)
        elif event.kind == "broker-down":
            state.problem, state.retry_in = f"databroker {event.broker}: {event.reason}", event.retry_in
            self._silent(state)
        elif event.kind == "subscribed":
            state.broker, state.signals, state.unknown, state.note = (event.broker, event.signals, event.unknown,
                                                                      event.note)
            state.streaming, state.problem = bool(event.signals), ""
            for path in (*event.signals, *event.unknown):
                self.add_path(path)

    def _silent(self, state: DeviceState) -> None:
        """The device's traces break where it was last heard (a lost link is noticed only after a
        few silent seconds): what comes next is not joined to what came before."""
        state.streaming = False
        for (device_id, _path), trace in self.traces.items():
            if device_id == state.id:
                trace.gap(max(state.last_heard, float(trace.t[-1]) if trace.n else 0.0))

    def _sampled(self, state: DeviceState, metrics: DeviceMetrics) -> None:
        state.metrics = metrics
        for t, cpu, memory in self._points(metrics):
            if t > state.last_sample:
                state.cpu.add(t, cpu)
                state.memory.add(t, memory)
                state.last_sample = t

    def _points(self, metrics: DeviceMetrics) -> Iterator[tuple[float, float | None, float | None]]:
        """(time, CPU, memory) of each new sample; the latest figures when the device kept none."""
        history: list[HistoryPoint] = metrics.history
        if not history:
            app = metrics.app(self.app) if self.app else None
            if app is not None:
                yield metrics.timestamp, app.cpu_usage, None if app.rss is None else app.rss / 2**20
            else:
                yield metrics.timestamp, metrics.cpu_usage, metrics.memory_usage
            return
        for point in history:
            if self.app is None:
                yield point.t, point.cpu, point.memory
                continue
            figures: dict[str, Any] = point.apps.get(self.app) or {}
            rss = figures.get("rss")
            yield point.t, figures.get("cpu"), None if rss is None else rss / 2**20

    # -- export --------------------------------------------------------------------------------

    def rows(self, paths: Sequence[str], start: float, end: float) -> list[tuple[str, ...]]:
        """What the plots show between ``start`` and ``end``, one row per value or gap, in time order:
        (time, device, signal, value, databroker time, event)."""
        found: list[tuple[float, tuple[str, ...]]] = []
        for path in paths:
            for state in self.devices.values():
                trace = self.trace(state.id, path)
                if trace is None:
                    continue
                first = trace.first_index(start)
                for i in range(first, trace.n):
                    t = float(trace.t[i])
                    if t > end:
                        break
                    value, stamp = float(trace.v[i]), float(trace.stamps[i])
                    gap = math.isnan(value)
                    text = "" if gap else _shown(trace, i, value)
                    found.append((t, (_iso(t), state.name, path, text, "" if math.isnan(stamp) else _iso(stamp),
                                      "gap" if gap else "value")))
        return [row for _t, row in sorted(found, key=lambda item: item[0])]


def _shown(trace: Trace, i: int, value: float) -> str:
    if trace.kind == "bool":
        return "true" if value else "false"
    if trace.kind == "state":
        return trace.labels[i]
    return repr(value)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
