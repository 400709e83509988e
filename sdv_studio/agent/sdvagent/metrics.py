"""Device facts from /proc and statvfs: CPU time, memory, disk, uptime; and the ``metrics`` answer
when no supervisor samples (nothing is meant to run): the device alone, its CPU over a short wait."""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Tuple

SAMPLE = 0.2


def cpu_times() -> Tuple[int, int]:
    """(all, idle) jiffies of every CPU since boot; iowait counts as idle, as top counts it."""
    with open("/proc/stat", encoding="utf-8") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values), idle


def busy_percent(before: Tuple[int, int], after: Tuple[int, int]) -> float:
    """The device's CPU use between two ``cpu_times()``, as a percentage of all its cores."""
    total = after[0] - before[0]
    busy = total - (after[1] - before[1])
    return round(100.0 * busy / total, 1) if total > 0 else 0.0


def cpu_percent(sample: float = SAMPLE) -> float:
    before = cpu_times()
    time.sleep(sample)
    return busy_percent(before, cpu_times())


def memory() -> Dict[str, float]:
    info = {}
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            key, _, rest = line.partition(":")
            info[key] = int(rest.split()[0]) * 1024
    total = info.get("MemTotal", 0)
    available = info.get("MemAvailable", info.get("MemFree", 0))
    return {"total": total, "available": available, "used": total - available,
            "percent": round(100.0 * (total - available) / max(1, total), 1)}


def disk(path: str) -> Dict[str, Any]:
    st = os.statvfs(path)
    total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
    return {"path": path, "total": total, "free": free, "used": total - st.f_bfree * st.f_frsize,
            "percent": round(100.0 * (total - free) / max(1, total), 1)}


def uptime() -> float:
    """Seconds since boot: a process has run for this minus its start time (``procs.start_ticks``)."""
    with open("/proc/uptime", encoding="ascii") as f:
        return float(f.read().split()[0])


def device_only() -> Dict[str, Any]:
    """What ``metrics`` answers when nothing runs under the supervisor: no history, no apps."""
    return {"cpu": {"percent": cpu_percent()}, "memory": memory(), "apps": [], "history": [],
            "interval": None, "timestamp": time.time()}
