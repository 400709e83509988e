"""Subscribing to signals on a databroker: kuksa.val.v2 ``Subscribe``, else v1's; each update with
the databroker's own timestamp. The stream never ends by itself: it fails with BrokerError.

``address`` is where this machine dials: a forwarded port on the workstation leading to the device's
databroker (core.monitor.link), or the databroker itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from sdv_studio.broker import convert
from sdv_studio.broker.kuksa_v2 import GATHER_HEADER
from sdv_studio.broker.proto.kuksa.val.v1 import types_pb2 as v1_types
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2 as v1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as v1_grpc
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.core.errors import OperationFailed

# Milliseconds SDV Studio's databroker gathers changes over before it sends them, every value kept
# (KUKSA's ignores the header and sends each change as it comes): a tenth of the messages, SSH
# packets and wake-ups when an app sets its signals one at a time, for a delay no plot shows.
GATHER_MS = 20

# gRPC call metadata: ``authorization: Bearer …`` for a databroker that checks tokens.
Metadata = tuple[tuple[str, str], ...]

# What a value can be: VSS's scalars and arrays of them; None when the signal has none yet.
SignalValue = bool | int | float | str | list[Any] | None


class BrokerError(OperationFailed):
    """The databroker could not be reached or refused the subscription; the message says which."""


@dataclass(frozen=True)
class Update:
    path: str
    value: SignalValue
    timestamp: float | None  # the databroker's (the device's clock), seconds since the epoch
    received: float  # this machine's clock when it arrived


@dataclass(frozen=True)
class Checked:
    """Which of the paths asked for are signals on this databroker, and which API it speaks."""

    known: tuple[str, ...]
    unknown: tuple[str, ...]
    api: str  # "kuksa.val.v2" or "kuksa.val.v1"


def _failure(exc: grpc.aio.AioRpcError) -> BrokerError:
    return BrokerError(f"{exc.code().name}: {exc.details() or 'no answer'}")


async def check_paths(channel: grpc.aio.Channel, paths: Sequence[str], timeout: float,
                      metadata: Metadata = ()) -> Checked:
    """Each path asked about on its own, so one typo does not hide the others."""
    stub = v2_grpc.VALStub(channel)
    try:
        await stub.GetServerInfo(v2.GetServerInfoRequest(), timeout=timeout, metadata=metadata)
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise _failure(exc) from exc
        return await _check_v1(v1_grpc.VALStub(channel), paths, timeout, metadata)

    async def signal(path: str) -> bool:
        try:
            found = await stub.ListMetadata(v2.ListMetadataRequest(root=path), timeout=timeout, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return False
            raise _failure(exc) from exc
        return any(m.path == path for m in found.metadata)  # a branch lists its signals, not itself

    known = await asyncio.gather(*(signal(p) for p in paths))
    return Checked(tuple(p for p, k in zip(paths, known, strict=True) if k),
                   tuple(p for p, k in zip(paths, known, strict=True) if not k), "kuksa.val.v2")


async def _check_v1(stub: v1_grpc.VALStub, paths: Sequence[str], timeout: float, metadata: Metadata) -> Checked:
    known: list[str] = []
    unknown: list[str] = []
    for path in paths:
        request = v1.GetRequest(entries=[v1.EntryRequest(path=path, view=v1_types.VIEW_METADATA,
                                                         fields=[v1_types.FIELD_METADATA])])
        try:
            answer = await stub.Get(request, timeout=timeout, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            raise _failure(exc) from exc
        ok = not answer.errors and not answer.error.code and any(e.path == path for e in answer.entries)
        (known if ok else unknown).append(path)
    return Checked(tuple(known), tuple(unknown), "kuksa.val.v1")


async def updates(channel: grpc.aio.Channel, checked: Checked, metadata: Metadata = ()) -> AsyncIterator[Update]:
    """The current values first (as the databroker sends them on subscribing), then each change,
    until the stream fails (BrokerError) or the caller stops. ``checked.known`` is not empty."""
    try:
        if checked.api == "kuksa.val.v2":
            call = v2_grpc.VALStub(channel).Subscribe(v2.SubscribeRequest(signal_paths=list(checked.known)),
                                                      metadata=(*metadata, (GATHER_HEADER, str(GATHER_MS))))
            async for response in call:
                received = time.time()
                for path, point in response.entries.items():
                    yield Update(path, _value(point.value, "typed_value"), convert.seconds(point.timestamp), received)
        else:
            entries = [v1.SubscribeEntry(path=p, view=v1_types.VIEW_CURRENT_VALUE, fields=[v1_types.FIELD_VALUE])
                       for p in checked.known]
            async for response in v1_grpc.VALStub(channel).Subscribe(v1.SubscribeRequest(entries=entries),
                                                                  metadata=metadata):
                received = time.time()
                for update in response.updates:
                    point = update.entry.value
                    yield Update(update.entry.path, _value(point, "value"), convert.seconds(point.timestamp), received)
    except grpc.aio.AioRpcError as exc:
        raise _failure(exc) from exc
    raise BrokerError("the databroker ended the subscription")


def _value(message: Any, oneof: str) -> SignalValue:
    read = convert.read(message, oneof)
    return None if read is None else read[1]
