"""Process facts from /proc: liveness that survives PID reuse, start time, RSS, CPU time."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Optional

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> Optional[list]:
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8", errors="replace") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after its closing one.
    return data[data.rfind(")") + 2:].split()


def start_ticks(pid: int) -> Optional[int]:
    """The process's start time in clock ticks since boot: (pid, start) identifies one process."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def ticks_to_seconds(ticks: int) -> float:
    """A start time from ``start_ticks`` in seconds since boot (compare with /proc/uptime)."""
    return ticks / float(_TICKS)


def alive(pid: int, started: Optional[int] = None) -> bool:
    fields = _stat_fields(pid)
    if not fields or fields[0] in ("Z", "X"):
        return False
    return started is None or int(fields[19]) == started


def rss_bytes(pid: int) -> int:
    try:
        with open("/proc/%d/statm" % pid, encoding="utf-8") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / float(_TICKS)
