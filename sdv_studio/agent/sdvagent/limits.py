"""Resource limits: a systemd scope (real memory and CPU quotas) where we can, rlimits otherwise.

Each result says what was actually applied, because an rlimit is not a cgroup: RLIMIT_AS caps
address space (not resident memory), and nothing in rlimits caps the CPU share.
"""

from __future__ import annotations

import os
import re
import resource
import shutil

from .errors import BadRequest
from .sysinfo import systemd_manager_usable

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Callable, Dict, List, Optional

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20,
          "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30}


def parse_memory(value: Any) -> Optional[int]:
    if value in (None, "", 0):
        return None
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$", str(value))
    if not match or match.group(2).upper() not in _UNITS:
        raise BadRequest("memory limit: cannot read %r" % (value,))
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def parse_cpu(value: Any) -> Optional[float]:
    if value in (None, "", 0):
        return None
    try:
        cpu = float(str(value).strip().rstrip("%"))
    except ValueError as exc:
        raise BadRequest("cpu limit: cannot read %r" % (value,)) from exc
    if cpu <= 0:
        raise BadRequest("cpu limit must be positive")
    return cpu


class Plan:
    """How one process will be limited: an argv prefix and/or a pre-exec hook, plus the report."""

    def __init__(self, prefix: List[str], rlimit_as: Optional[int], report: Dict[str, Any]) -> None:
        self.prefix = prefix
        self.rlimit_as = rlimit_as
        self.report = report

    def preexec(self) -> Optional[Callable[[], None]]:
        if self.rlimit_as is None:
            return None
        limit = self.rlimit_as

        def apply() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        return apply


def plan(unit: str, memory: Optional[int], cpu: Optional[float], use_systemd: Optional[bool] = None) -> Plan:
    if memory is None and cpu is None:
        return Plan([], None, {"memory": None, "cpu": None, "enforcedBy": "none"})
    if use_systemd is None:
        use_systemd = systemd_manager_usable() and shutil.which("systemd-run") is not None
    if use_systemd:
        prefix = ["systemd-run", "--scope", "--quiet", "--collect", "--unit", unit]
        if os.getuid() != 0:
            prefix.insert(1, "--user")
        if memory is not None:
            prefix += ["-p", "MemoryMax=%d" % memory]
        if cpu is not None:
            prefix += ["-p", "CPUQuota=%d%%" % round(cpu * 100)]
        prefix.append("--")
        report = {"memory": memory, "cpu": cpu, "enforcedBy": "systemd-scope",
                  "memoryEnforced": memory is not None, "cpuEnforced": cpu is not None}
        return Plan(prefix, None, report)
    report = {"memory": memory, "cpu": cpu, "enforcedBy": "rlimit",
              "memoryEnforced": memory is not None, "cpuEnforced": False,
              "note": "RLIMIT_AS caps address space, not resident memory; CPU share is not capped without cgroups"}
    return Plan([], memory, report)
