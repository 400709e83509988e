"""Device metrics from /proc and statvfs: CPU, memory, disk and each app's resident memory."""

from __future__ import annotations

import os
import time

from . import procs

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Tuple

SAMPLE = 0.2


def _cpu_times() -> Tuple[int, int]:
    with open("/proc/stat", encoding="utf-8") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values), idle


def cpu_percent(sample: float = SAMPLE) -> float:
    total1, idle1 = _cpu_times()
    time.sleep(sample)
    total2, idle2 = _cpu_times()
    busy = (total2 - total1) - (idle2 - idle1)
    return round(100.0 * busy / max(1, total2 - total1), 1)


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


def collect(base: str, instances: List[Dict[str, Any]]) -> Dict[str, Any]:
    apps = []
    for inst in instances:
        pid = inst.get("pid")
        if pid and procs.alive(pid, inst.get("startTicks")):
            apps.append({"name": inst.get("app") or inst.get("name"), "kind": inst.get("kind"),
                         "release": inst.get("release"), "pid": pid, "rss": procs.rss_bytes(pid),
                         "cpuSeconds": round(procs.cpu_seconds(pid), 2)})
    load = os.getloadavg()
    return {"cpu": {"percent": cpu_percent(), "count": os.cpu_count(), "load": [round(v, 2) for v in load]},
            "memory": memory(), "disk": disk(base), "apps": apps, "timestamp": time.time()}
