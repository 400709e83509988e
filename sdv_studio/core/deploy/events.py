"""What a deployment reports while it runs: the GUI binds these to rows, the CLI prints them,
the API streams them over its WebSocket."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sdv_studio.models.deployment import DeviceStatus, WaveStatus


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
class WaveChanged:
    """A wave boundary of a rollout in waves: the wave starts (``in-progress``) or ends (``completed``,
    ``failed``: too many of its devices failed, ``cancelled``, ``skipped``)."""

    deployment_id: str
    index: int
    devices: list[str]
    status: WaveStatus
    failed: int
    kind: Literal["wave"] = field(default="wave", init=False)


@dataclass(frozen=True)
class DeploymentFinished:
    deployment_id: str
    status: str
    kind: Literal["finished"] = field(default="finished", init=False)


DeploymentEvent = DeviceProgress | DeviceLog | WaveChanged | DeploymentFinished


def event_to_json(event: DeploymentEvent) -> dict[str, Any]:
    """camelCase keys, like the rest of the API."""
    out: dict[str, Any] = {}
    for key, value in asdict(event).items():
        head, *rest = key.split("_")
        out[head + "".join(part.title() for part in rest)] = value
    return out
