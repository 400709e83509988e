"""Broker values to and from the three APIs' protobuf messages (their oneofs share field names)."""

from __future__ import annotations

from typing import Any

from sdv_studio.broker.store import Datapoint
from sdv_studio.broker.values import Value

_SDV_SUFFIX = "_value"


def fill(message: Any, value: Value, sdv: bool = False) -> None:
    """Set the oneof member of message (a v2 Value, a v1 or sdv Datapoint) for this value."""
    kind, data = value
    if kind.endswith("_array"):
        getattr(message, kind).values.extend(data)
    else:
        setattr(message, kind + _SDV_SUFFIX if sdv else kind, data)


def read(message: Any, oneof: str, sdv: bool = False) -> Value | None:
    """The value in message's oneof, or None when it holds none (or an sdv failure)."""
    kind = message.WhichOneof(oneof)
    if kind is None or kind == "failure_value":
        return None
    data = getattr(message, kind)
    if kind.endswith("_array"):
        return kind, list(data.values)
    if sdv:
        kind = kind[: -len(_SDV_SUFFIX)]
    return kind, data


def stamp(timestamp_message: Any, seconds: float) -> None:
    whole = int(seconds)
    timestamp_message.seconds = whole
    timestamp_message.nanos = int((seconds - whole) * 1e9)


def seconds(timestamp_message: Any) -> float | None:
    if not timestamp_message.seconds and not timestamp_message.nanos:
        return None
    return timestamp_message.seconds + timestamp_message.nanos / 1e9


def fill_datapoint(message: Any, point: Datapoint | None, sdv: bool = False, v2: bool = False) -> None:
    """A v2 Datapoint (value nested in .value), a v1 Datapoint or an sdv Datapoint."""
    if point is None:
        return
    stamp(message.timestamp, point.timestamp)
    if point.value is not None:
        fill(message.value if v2 else message, point.value, sdv=sdv)
