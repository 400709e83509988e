"""The supervisor's metrics: once a second the device's CPU and memory, and each running instance's
CPU, resident memory and KUKSA counters, kept for 15 minutes in a bounded ring; ``metrics`` answers
from it in one request.

Apps count their KUKSA calls themselves: the meter SDV Studio adds to every package
(``templates/sdv_meter.py``) sends its running totals, one JSON datagram a second at most, to
``Layout.metrics_socket``, which this reads without ever blocking. Totals, not increments: a lost
datagram loses nothing, and a restarted app starts again from zero under its new pid.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import socket
import time

from . import metrics as readers
from . import procs

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Iterable, List, Optional, Tuple

INTERVAL = 1.0
KEEP = 900  # samples: 15 minutes at one a second
RATE_SAMPLES = 5  # the current CPU use and update rate are taken over this many samples
LATENCY_SAMPLES = 60  # and the latency percentiles over the last minute
# The meter's latency histogram (templates/sdv_meter.py): bucket i holds calls that took at most
# BASE_MS * 2 ** (i / PER_OCTAVE) milliseconds.
BASE_MS = 0.05
PER_OCTAVE = 4
MAX_DATAGRAM = 16384
MAX_METERS = 256  # pids whose totals are kept: a device runs a handful of apps, not a flood

# One sample: wall time, seconds since the previous one, device CPU %, memory %, and per app (by name)
# an AppPoint. Tuples, not dicts: 900 of them stay small in a long-lived process on a small board.
Point = collections.namedtuple("Point", "t dt cpu memory apps")
# CPU % of one core, resident bytes, signal updates, errors and KUKSA calls in the interval, the
# interval's latency histogram {bucket: calls} (None when unmetered), health state.
AppPoint = collections.namedtuple("AppPoint", "cpu rss updates errors calls latency status")
# What the previous sample saw of an instance, to take differences from.
_Seen = collections.namedtuple("_Seen", "pid mono cpu totals")
# A meter's running totals: KUKSA calls, failed calls, signal updates received and sent, histogram.
Totals = collections.namedtuple("Totals", "calls errors received sent latency last_error")


class Sampler:
    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = None  # type: Optional[socket.socket]
        self.ring = collections.deque(maxlen=KEEP)  # type: collections.deque
        self.meters = {}  # type: Dict[int, Totals]
        self._seen = {}  # type: Dict[str, _Seen]
        self._device_cpu = None  # type: Optional[Tuple[int, int]]
        self._last = None  # type: Optional[float]
        self._due = 0.0

    # -- the meters' socket ------------------------------------------------------------------
    def open(self) -> None:
        """Bind the meters' socket; without it (an unwritable folder) only /proc is sampled."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        old = os.umask(0o077)
        try:
            sock.bind(self.path)
        except OSError:
            sock.close()
            return
        finally:
            os.umask(old)
        sock.setblocking(False)
        self.sock = sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def _drain(self) -> None:
        while self.sock is not None:
            try:
                data = self.sock.recv(MAX_DATAGRAM)
            except OSError:  # nothing more waiting (BlockingIOError) or the socket went away
                return
            parsed = parse_report(data)
            if parsed is not None and (parsed[0] in self.meters or len(self.meters) < MAX_METERS):
                self.meters[parsed[0]] = parsed[1]

    # -- sampling ----------------------------------------------------------------------------
    def tick(self, instances: Dict[str, Dict[str, Any]]) -> None:
        """Called from the supervisor's loop (a few times a second): reads what the meters sent,
        and samples when a second has passed."""
        self._drain()
        mono = time.monotonic()
        if mono < self._due:
            return
        self._due += INTERVAL  # on a grid of whole seconds, however late the loop woke
        if self._due <= mono:  # the first sample, or after a stall: no burst to catch up
            self._due = mono + INTERVAL
        self.ring.append(self._sample(instances, mono))

    def _sample(self, instances: Dict[str, Dict[str, Any]], mono: float) -> Point:
        times = readers.cpu_times()
        cpu = readers.busy_percent(self._device_cpu, times) if self._device_cpu else None
        self._device_cpu = times
        dt = mono - self._last if self._last is not None else None
        self._last = mono
        seen = {}  # type: Dict[str, _Seen]
        apps = {}  # type: Dict[str, AppPoint]
        for inst, alive in chosen(instances):
            if not alive:
                apps[inst["app"]] = AppPoint(None, None, 0, 0, 0, None, health_state(inst, False))
                continue
            pid = inst["pid"]
            before = self._seen.get(inst["id"])
            if before is not None and before.pid != pid:
                before = None  # restarted: nothing to take a difference from
            now = _Seen(pid, mono, procs.cpu_seconds(pid), self.meters.get(pid))
            seen[inst["id"]] = now
            apps[inst["app"]] = _app_point(inst, before, now)
        self._seen = seen
        live = {s.pid for s in seen.values()}
        self.meters = {pid: totals for pid, totals in self.meters.items() if pid in live}
        return Point(time.time(), dt, cpu, readers.memory()["percent"], apps)

    # -- answering ---------------------------------------------------------------------------
    def report(self, instances: Dict[str, Dict[str, Any]], since: Optional[float] = None) -> Dict[str, Any]:
        """The latest sample, each app's state and KUKSA figures, and with ``since`` (a wall time)
        every sample after it that the ring still holds."""
        total_memory = readers.memory()
        apps = [self._app_entry(inst, alive, total_memory["total"]) for inst, alive in chosen(instances)]
        recent = [(p.dt, p.cpu) for p in list(self.ring)[-RATE_SAMPLES:] if p.dt and p.cpu is not None]
        answer = {"interval": INTERVAL, "timestamp": time.time(), "memory": total_memory, "apps": apps,
                  "cpu": {"percent": _mean(recent)}}
        if since is not None:
            answer["history"] = [point_json(p) for p in self.ring if p.t > since]
        return answer

    def _window(self, name: str, samples: int) -> List[Tuple[float, AppPoint]]:
        """(dt, point) of ``name`` in the last ``samples`` samples that have both."""
        recent = list(self.ring)[-samples:]
        return [(p.dt, p.apps[name]) for p in recent if p.dt and name in p.apps]

    def _app_entry(self, inst: Dict[str, Any], alive: bool, device_memory: float) -> Dict[str, Any]:
        name, pid = inst["app"], inst.get("pid") if alive else None
        limits = inst.get("limits") or {}
        rss = procs.rss_bytes(pid) if pid else None
        limit = limits.get("memory")
        of = limit or device_memory  # its share of its limit, else of the device's memory
        cpu = _mean([(dt, p.cpu) for dt, p in self._window(name, RATE_SAMPLES) if p.cpu is not None])
        entry = {
            "name": name, "kind": inst.get("kind"), "release": inst.get("release"), "pid": pid,
            "status": health_state(inst, alive), "health": _health_fields(inst.get("lastHealth")),
            "restarts": inst.get("restarts", 0), "startedAt": inst.get("startedAt") if alive else None,
            "uptime": _uptime(inst) if pid else None, "rss": rss,
            "cpuSeconds": round(procs.cpu_seconds(pid), 2) if pid else None,
            "cpu_usage": cpu if pid else None,
            "memory_usage": round(100.0 * rss / of, 1) if rss and of else None,
            "memoryLimit": limit, "cpuLimit": limits.get("cpu"),
        }
        entry.update(self._kuksa(name, self.meters.get(pid) if pid else None))
        return entry

    def _kuksa(self, name: str, totals: Optional[Totals]) -> Dict[str, Any]:
        """The guide's KUKSA figures: running totals from the meter, rates and latency from the ring."""
        if totals is None:
            return {"metered": False, "signal_updates": None, "errors": None, "kuksa_latency": None,
                    "signalUpdatesPerSecond": None}
        recent = self._window(name, RATE_SAMPLES)
        seconds = sum(dt for dt, _ in recent)
        merged = {}  # type: Dict[int, int]
        for _, point in self._window(name, LATENCY_SAMPLES):
            for bucket, count in (point.latency or {}).items():
                merged[bucket] = merged.get(bucket, 0) + count
        calls = sum(merged.values())
        return {
            "metered": True, "signal_updates": totals.received + totals.sent, "errors": totals.errors,
            "signalUpdatesReceived": totals.received, "signalUpdatesSent": totals.sent, "kuksaCalls": totals.calls,
            "signalUpdatesPerSecond": round(sum(p.updates for _, p in recent) / seconds, 2) if seconds else None,
            "kuksa_latency": {"p50": percentile(merged, 0.5), "p95": percentile(merged, 0.95), "calls": calls,
                              "window": LATENCY_SAMPLES * INTERVAL},
            "lastError": totals.last_error,
        }


def _mean(weighted: List[Tuple[float, float]]) -> Optional[float]:
    """The time-weighted mean of (seconds, percent) pairs."""
    seconds = sum(dt for dt, _ in weighted)
    return round(sum(dt * value for dt, value in weighted) / seconds, 1) if seconds else None


def chosen(instances: Dict[str, Dict[str, Any]]) -> Iterable[Tuple[Dict[str, Any], bool]]:
    """(instance, alive) of each app or service meant to run, one per name: during a hot swap the
    one past its health gate rather than the newcomer on probation."""
    by_name = {}  # type: Dict[str, Tuple[Dict[str, Any], bool]]
    for inst in instances.values():
        if inst.get("want") != "running" or not inst.get("app"):
            continue
        pid = inst.get("pid") or 0
        alive = bool(pid) and procs.alive(pid, inst.get("startTicks"))
        held = by_name.get(inst["app"])
        if held is None or (inst.get("restart", True) and not held[0].get("restart", True)):
            by_name[inst["app"]] = (inst, alive)
    return by_name.values()


def health_state(inst: Dict[str, Any], alive: bool) -> str:
    """running, degraded (alive, but its last health check failed), crashed (meant to run and not
    up: the supervisor restarts it) or scheduled (a service whose delayed start has not come)."""
    if alive:
        last = inst.get("lastHealth")
        return "degraded" if last and not last.get("healthy", True) else "running"
    return "scheduled" if inst.get("status") == "scheduled" else "crashed"


def _health_fields(last: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if not last:
        return None
    return {k: last.get(k) for k in ("kuksa_connection", "app_running", "last_check", "reason")}


def _uptime(inst: Dict[str, Any]) -> Optional[float]:
    started = inst.get("startTicks")
    if started is None:
        return None
    return round(readers.uptime() - procs.ticks_to_seconds(started), 1)


def _app_point(inst: Dict[str, Any], before: Optional[_Seen], now: _Seen) -> AppPoint:
    cpu = None
    if before is not None and now.mono > before.mono:
        cpu = round(100.0 * (now.cpu - before.cpu) / (now.mono - before.mono), 1)
    updates = errors = calls = 0
    latency = None
    if now.totals is not None:
        was = before.totals if before is not None else None
        if was is None:
            was = now.totals  # first seen (or the supervisor restarted): no difference yet
        updates = max(0, now.totals.received + now.totals.sent - was.received - was.sent)
        errors = max(0, now.totals.errors - was.errors)
        calls = max(0, now.totals.calls - was.calls)
        latency = {b: n - was.latency.get(b, 0) for b, n in now.totals.latency.items() if n > was.latency.get(b, 0)}
    return AppPoint(cpu, procs.rss_bytes(now.pid), updates, errors, calls, latency, health_state(inst, True))


def percentile(histogram: Dict[int, int], q: float) -> Optional[float]:
    """The ``q`` quantile of a latency histogram in ms: its bucket's geometric middle (within 9%)."""
    total = sum(histogram.values())
    if not total:
        return None
    running = 0
    for bucket in sorted(histogram):
        running += histogram[bucket]
        if running >= q * total:
            return round(BASE_MS * 2 ** ((bucket - 0.5) / PER_OCTAVE), 3)
    return None


def point_json(point: Point) -> Dict[str, Any]:
    return {"t": round(point.t, 3), "cpu": point.cpu, "memory": point.memory, "apps": {
        name: {"cpu": a.cpu, "rss": a.rss, "status": a.status,
               "signalUpdates": round(a.updates / point.dt, 2) if point.dt and a.latency is not None else None,
               "errors": a.errors if a.latency is not None else None,
               "kuksaCalls": a.calls if a.latency is not None else None,
               "p50": percentile(a.latency or {}, 0.5), "p95": percentile(a.latency or {}, 0.95)}
        for name, a in point.apps.items()}}


def parse_report(data: bytes) -> Optional[Tuple[int, Totals]]:
    """A meter's datagram, ``{"pid", "calls", "errors", "received", "sent", "latency": {"base",
    "perOctave", "counts": {bucket: n}}, "lastError"}``; None for anything else."""
    try:
        doc = json.loads(data.decode("utf-8"))
        pid = doc["pid"]
        counts = [doc[k] for k in ("calls", "errors", "received", "sent")]
        latency = doc.get("latency") or {}
        if latency and (latency.get("base") != BASE_MS or latency.get("perOctave") != PER_OCTAVE):
            latency = {}  # another scale: its buckets would be misread
        buckets = {int(b): n for b, n in (latency.get("counts") or {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    numbers = [pid, *counts, *buckets.values()]
    if not all(type(n) is int and n >= 0 for n in numbers) or pid == 0:
        return None
    error = doc.get("lastError")
    return pid, Totals(counts[0], counts[1], counts[2], counts[3], buckets,
                       str(error)[:300] if error else None)
