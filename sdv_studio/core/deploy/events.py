"""What a deployment reports while it runs: the GUI binds these to rows, the CLI prints them,
the API streams them over its WebSocket."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sdv_studio.models.deployment import DeviceStatus


@dataclass(frozen=True)
class DeviceProgress:
    deployment_id: str
    device_id: str
    stage: str
    progress: int
    status: DeviceStatus
    message: str
    kind: Literal["progress"] = field(default="progress", init=False)


@dataclass(frozen=True)
class DeviceLog:
    """A line of detail for the live log pane (a step's output, a warning)."""

    deployment_id: str
    device_id: str
    line: str
    kind: Literal["log"] = field(default="log", init=False)


@dataclass(frozen=True)
class DeploymentFinished:
    deployment_id: str
    status: str
    kind: Literal["finished"] = field(default="finished", init=False)


DeploymentEvent = DeviceProgress | DeviceLog | DeploymentFinished


def event_to_json(event: DeploymentEvent) -> dict[str, Any]:
    """camelCase keys, like the rest of the API."""
    out: dict[str, Any] = {}
    for key, value in asdict(event).items():
        head, *rest = key.split("_")
        out[head + "".join(part.title() for part in rest)] = value
    return out
