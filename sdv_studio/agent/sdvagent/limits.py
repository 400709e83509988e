"""Resource limits: a systemd scope (real memory and CPU quotas) where we can, rlimits otherwise;
for a sandboxed app (sandbox.py) a systemd service, or no_new_privs where systemd cannot be used.

Each result says what was actually applied, because an rlimit is not a cgroup: RLIMIT_AS caps
address space (not resident memory), and nothing in rlimits caps the CPU share.
"""

from __future__ import annotations

import os
import re
import resource
import shutil

from . import sandbox as isolation
from .errors import BadRequest
from .sysinfo import systemd_manager_usable, systemd_running

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
    """How one process will be limited: an argv prefix and/or pre-exec hooks, plus the report;
    ``stop`` is what stops it besides a signal (the systemd unit it runs in), or None."""

    def __init__(self, prefix: List[str], rlimit_as: Optional[int], report: Dict[str, Any],
                 no_new_privs: Optional[Callable[[], None]] = None, stop: Optional[List[str]] = None) -> None:
        self.prefix = prefix
        self.rlimit_as = rlimit_as
        self.report = report
        self.no_new_privs = no_new_privs
        self.stop = stop

    def preexec(self) -> Optional[Callable[[], None]]:
        hooks = [] if self.no_new_privs is None else [self.no_new_privs]
        if self.rlimit_as is not None:
            limit = self.rlimit_as
            hooks.append(lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
        if not hooks:
            return None

        def apply() -> None:
            for hook in hooks:
                hook()

        return apply


def plan(unit: str, memory: Optional[int], cpu: Optional[float], use_systemd: Optional[bool] = None,
         sandbox: Optional[Dict[str, Any]] = None) -> Plan:
    """``sandbox``: ``{allow: [addresses], cwd, env, envFile}`` for an app to isolate, else None."""
    if memory is None and cpu is None and not sandbox:
        return Plan([], None, {"memory": None, "cpu": None, "enforcedBy": "none"})
    if use_systemd is None:
        use_systemd = systemd_manager_usable() and shutil.which("systemd-run") is not None
    quotas = ([] if memory is None else ["MemoryMax=%d" % memory]) + (
        [] if cpu is None else ["CPUQuota=%d%%" % round(cpu * 100)])
    cgroup_report = {"memory": memory, "cpu": cpu, "memoryEnforced": memory is not None,
                     "cpuEnforced": cpu is not None}
    if use_systemd and sandbox:
        props = isolation.properties(list(sandbox["allow"]))
        isolation.write_env_file(sandbox["envFile"], dict(sandbox["env"]))
        report = dict(cgroup_report, enforcedBy="systemd-service", sandbox=isolation.report(props, ""))
        return Plan(isolation.service_prefix(unit, props + quotas, sandbox["cwd"], sandbox["envFile"]), None,
                    report, stop=isolation.stop_argv(unit))
    if use_systemd:
        prefix = ["systemd-run", "--scope", "--quiet", "--collect", "--unit", unit]
        if os.getuid() != 0:
            prefix.insert(1, "--user")
        for quota in quotas:
            prefix += ["-p", quota]
        result = Plan([*prefix, "--"], None, dict(cgroup_report, enforcedBy="systemd-scope"))
    elif memory is None and cpu is None:
        result = Plan([], None, {"memory": None, "cpu": None, "enforcedBy": "none"})
    else:
        report = {"memory": memory, "cpu": cpu, "enforcedBy": "rlimit",
                  "memoryEnforced": memory is not None, "cpuEnforced": False,
                  "note": "RLIMIT_AS caps address space, not resident memory; CPU share is not capped without cgroups"}
        result = Plan([], memory, report)
    if sandbox:  # and no systemd to apply it: what prctl can
        result.no_new_privs = isolation.no_new_privileges()
        why = ("systemd does not run on this device" if not systemd_running() else
               "this user's systemd manager cannot be reached (no session bus)")
        applied = ["NoNewPrivileges=yes"] if result.no_new_privs else []
        result.report["sandbox"] = isolation.report(applied, "needs a systemd service; " + why)
    return result
