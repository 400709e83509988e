"""What watching a device reports: the GUI plots these, the CLI prints them, the API streams them.

Every event names its device. A device's stream begins with ``LinkUp`` (or ``LinkDown`` when it
cannot be reached); ``LinkDown`` with ``retry_in`` None means it was given up (the user must act:
trust a host key, fix a login).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sdv_studio.core.monitor.subscription import SignalValue
from sdv_studio.models.metrics import DeviceMetrics


@dataclass(frozen=True)
class LinkUp:
    device_id: str
    kind: Literal["link-up"] = field(default="link-up", init=False)


@dataclass(frozen=True)
class LinkDown:
    device_id: str
    reason: str
    retry_in: float | None  # seconds until the next attempt; None: given up
    kind: Literal["link-down"] = field(default="link-down", init=False)


@dataclass(frozen=True)
class MetricsSample:
    """The agent's answer: the latest figures, and the samples since the previous answer."""

    device_id: str
    metrics: DeviceMetrics
    kind: Literal["metrics"] = field(default="metrics", init=False)


@dataclass(frozen=True)
class Subscribed:
    """Signals are streaming from ``broker`` (as the device sees it): ``signals`` are, ``unknown``
    are not signals there; ``note`` says what else is worth knowing (the app is not on the device)."""

    device_id: str
    broker: str
    signals: tuple[str, ...]
    unknown: tuple[str, ...]
    note: str = ""
    kind: Literal["subscribed"] = field(default="subscribed", init=False)


@dataclass(frozen=True)
class BrokerDown:
    """The databroker could not be reached or ended the stream, while the device answers."""

    device_id: str
    broker: str
    reason: str
    retry_in: float
    kind: Literal["broker-down"] = field(default="broker-down", init=False)


@dataclass(frozen=True)
class SignalUpdate:
    device_id: str
    path: str
    value: SignalValue
    timestamp: float | None  # the databroker's, the device's clock (seconds since the epoch)
    received: float  # this machine's clock
    kind: Literal["signal"] = field(default="signal", init=False)


MonitorEvent = LinkUp | LinkDown | MetricsSample | Subscribed | BrokerDown | SignalUpdate


def event_to_json(event: MonitorEvent) -> dict[str, Any]:
    """One JSON object: ``kind``, ``deviceId`` and the event's fields in camelCase; a metrics
    sample's fields are the DeviceMetrics document itself."""
    if isinstance(event, MetricsSample):
        return {"kind": event.kind, **event.metrics.to_json_dict()}
    out: dict[str, Any] = {}
    for key, value in asdict(event).items():
        head, *rest = key.split("_")
        out[head + "".join(part.title() for part in rest)] = list(value) if isinstance(value, tuple) else value
    return out
