"""Scheduled updates (``deploy --when idle`` / ``--at HH:MM-HH:MM``): the release is staged on the device
(transferred, installed, not started) and the device's agent starts it when the condition holds.

The conditions are parsed by the agent's own parser (``sdvagent.schedule``), so the workstation refuses
exactly what the device would; here they are also checked against the package: its runtime (the
agent stages native apps) and its VSS catalogue (every signal the condition reads must exist there,
with a value of the kind compared with)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sdv_studio.agent.sdvagent.errors import BadRequest
from sdv_studio.agent.sdvagent.schedule import condition_paths, parse_condition, parse_window, show_window
from sdv_studio.core.errors import InvalidInput

DEFAULT_IDLE = "Vehicle.Speed == 0"
CATALOGUE_ENTRY = "support/vss.json"
_NUMERIC = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float", "double")


@dataclass(frozen=True)
class ScheduleFields:
    """How the face that took the schedule names its parts, for the errors it reports."""

    when: str = "--when"
    idle: str = "--idle"
    at: str = "--at"


CLI_FIELDS = ScheduleFields()
API_FIELDS = ScheduleFields("when", "idleCondition", "at")


@dataclass(frozen=True)
class Schedule:
    """Exactly one of ``idle`` (a VSS condition) or ``window`` (``HH:MM-HH:MM``, the device's local time)."""

    idle: str | None = None
    window: str | None = None

    def agent_when(self) -> dict[str, str]:
        return {"idle": self.idle} if self.idle else {"window": str(self.window)}

    @property
    def paths(self) -> list[str]:
        return condition_paths(parse_condition(self.idle)) if self.idle else []

    def describe(self) -> str:
        if self.idle:
            return f"when {self.idle}"
        start, end = str(self.window).split("-")
        return f"between {start} and {end} (the device's local time)"


def parse_schedule(when: str | None, idle: str | None, at: str | None,
                   fields: ScheduleFields = CLI_FIELDS) -> Schedule | None:
    """The schedule the options ask for (None: start at once); InvalidInput naming the option."""
    if at is not None and when is not None:
        raise InvalidInput(f"{fields.at}: give either {fields.when} idle or {fields.at}, not both")
    if idle is not None and when is None:
        raise InvalidInput(f"{fields.idle}: only with {fields.when} idle")
    try:
        if at is not None:
            return Schedule(window=show_window(parse_window(at, fields.at)))
        if when is None:
            return None
        if when != "idle":
            raise InvalidInput(f"{fields.when}: must be idle (or give {fields.at} HH:MM-HH:MM), got {when!r}")
        comparisons = parse_condition(DEFAULT_IDLE if idle is None else idle, fields.idle)
    except BadRequest as exc:
        raise InvalidInput(str(exc)) from exc
    return Schedule(idle=" and ".join(repr(c) for c in comparisons))


def check_schedule(schedule: Schedule, manifest: Mapping[str, Any], catalogue: bytes,
                   fields: ScheduleFields = CLI_FIELDS) -> list[str]:
    """What the package says against the schedule, one line per problem naming the option:
    ``catalogue`` is the VSS JSON the package's databroker loads."""
    if str(manifest.get("runtimeMode", "native")) == "docker":
        return [f"{fields.at if schedule.window else fields.when}: scheduled updates are staged by the device "
                "agent, for native apps; this package runs in docker"]
    if not schedule.idle:
        return []
    types = _datatypes(catalogue)
    problems = []
    for comparison in parse_condition(schedule.idle):
        datatype = types.get(comparison.path)
        if datatype is None:
            problems.append(f"{fields.idle}: {comparison.path}: no such signal in the package's VSS catalogue")
            continue
        value = comparison.value
        expected = "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) else "number"
        kind = "boolean" if datatype == "boolean" else "number" if datatype in _NUMERIC else "string" \
            if datatype == "string" else datatype
        if kind != expected:
            problems.append(f"{fields.idle}: {comparison.path} is a {datatype} signal, compared with a {expected}")
    return problems


def _datatypes(catalogue: bytes) -> dict[str, str]:
    """``{path: datatype}`` of every signal in a VSS JSON tree."""
    found: dict[str, str] = {}
    pending: list[tuple[str, Any]] = list(json.loads(catalogue).items())
    while pending:
        path, node = pending.pop()
        if not isinstance(node, dict):
            continue
        if node.get("type") == "branch":
            pending += [(f"{path}.{name}", child) for name, child in (node.get("children") or {}).items()]
        elif node.get("datatype"):
            found[path] = str(node["datatype"])
    return found
