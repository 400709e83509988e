"""sdv.databroker.v1 Broker service: the API the Velocitas SDK speaks (dropped from databroker 0.7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc

from sdv_studio.broker import auth, convert, query
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2 as broker
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2_grpc as broker_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import types_pb2 as types
from sdv_studio.broker.service_base import Service, datatype_name
from sdv_studio.broker.store import CURRENT, TARGET, Change, Datapoint
from sdv_studio.broker.values import UpdateError
from sdv_studio.broker.vss import Entry

Code = grpc.StatusCode
Failure = types.Datapoint.Failure
_SET_ERRORS = {
    UpdateError.NOT_FOUND: types.UNKNOWN_DATAPOINT,
    UpdateError.WRONG_TYPE: types.INVALID_TYPE,
    UpdateError.OUT_OF_BOUNDS_TYPE: types.OUT_OF_BOUNDS,
    UpdateError.OUT_OF_BOUNDS_ALLOWED: types.OUT_OF_BOUNDS,
    UpdateError.OUT_OF_BOUNDS_MINMAX: types.OUT_OF_BOUNDS,
    UpdateError.PERMISSION_DENIED: types.ACCESS_DENIED,
    UpdateError.PERMISSION_EXPIRED: types.ACCESS_DENIED,
}
_CHANGE_TYPE = {"attribute": types.STATIC, "sensor": types.CONTINUOUS, "actuator": types.ON_CHANGE}


def _datapoint(point: Datapoint | None) -> types.Datapoint:
    message = types.Datapoint()
    if point is None or point.value is None:
        message.failure_value = Failure.NOT_AVAILABLE
        if point is not None:
            convert.stamp(message.timestamp, point.timestamp)
        return message
    convert.fill_datapoint(message, point, sdv=True)
    return message


def metadata(entry: Entry) -> types.Metadata:
    return types.Metadata(
        id=entry.id,
        name=entry.path,
        data_type=types.DataType.Value(datatype_name(entry, sdv=True)),
        change_type=_CHANGE_TYPE[entry.entry_type],
        description=entry.description,
    )


class Broker(Service, broker_grpc.BrokerServicer):
    def GetDatapoints(self, request: broker.GetDatapointsRequest, context: Any) -> broker.GetDatapointsReply:
        perms = self.permissions(context)
        if not request.datapoints:
            context.abort(Code.INVALID_ARGUMENT, "No datapoints requested")
        self.limit_items(context, "datapoints", request.datapoints)
        reply = broker.GetDatapointsReply()
        for path in request.datapoints:
            entry = self.db.by_path.get(path)
            if entry is None:
                reply.datapoints[path].failure_value = Failure.UNKNOWN_DATAPOINT
            elif not perms.allows(auth.READ, entry):
                reply.datapoints[path].failure_value = Failure.ACCESS_DENIED
            else:
                reply.datapoints[path].CopyFrom(_datapoint(self.db.get(entry)))
        return reply

    def SetDatapoints(self, request: broker.SetDatapointsRequest, context: Any) -> broker.SetDatapointsReply:
        # As in the real broker, this API sets actuator targets; sensors and attributes are refused.
        perms = self.permissions(context)
        self.limit_items(context, "datapoints", request.datapoints)
        reply = broker.SetDatapointsReply()
        changes = []
        for path, point in request.datapoints.items():
            entry = self.db.by_path.get(path)
            if entry is None:
                reply.errors[path] = types.UNKNOWN_DATAPOINT
            elif entry.entry_type != "actuator" or not perms.allows(auth.ACTUATE, entry):
                reply.errors[path] = types.ACCESS_DENIED
            else:
                value = convert.read(point, "value", sdv=True)
                changes.append(Change(entry, TARGET, value, convert.seconds(point.timestamp)))
        for entry, error in self.db.update(changes):
            reply.errors[entry.path] = _SET_ERRORS[error]
        return reply

    def Subscribe(self, request: broker.SubscribeRequest, context: Any) -> Iterator[broker.SubscribeReply]:
        perms = self.permissions(context)
        try:
            parsed = query.parse(request.query)
        except query.QueryError as exc:
            context.abort(Code.INVALID_ARGUMENT, f"ParseError({str(exc)!r})")
        entries: dict[str, Entry] = {}
        for path in parsed.paths:
            entry = self.db.by_path.get(path)
            if entry is None:
                context.abort(Code.INVALID_ARGUMENT, f"CompilationError(\"unknown field: {path}\")")
            elif not perms.allows(auth.READ, entry):
                context.abort(Code.INVALID_ARGUMENT, f"CompilationError(\"access denied: {path}\")")
            else:
                entries[path] = entry
        keys = [(entry.id, CURRENT) for entry in entries.values()]
        first = None
        with self.db.lock:
            subscription = self.subscribe(context, keys)
            if any(self.db.get(entries[path]) is not None for path in parsed.fields):
                first = self._reply(parsed, entries)
        try:
            if first is not None:
                yield first
            while subscription.next() is not None:
                reply = self._reply(parsed, entries)
                if reply is not None:
                    yield reply
        finally:
            self.db.unsubscribe(subscription)

    def _reply(self, parsed: query.Query, entries: dict[str, Entry]) -> broker.SubscribeReply | None:
        points = {path: self.db.get(entry) for path, entry in entries.items()}
        current = {path: (p.value[1] if p is not None and p.value is not None else None) for path, p in points.items()}
        if not parsed.holds(current):
            return None
        reply = broker.SubscribeReply()
        for path in parsed.fields:
            reply.fields[path].CopyFrom(_datapoint(points[path]))
        return reply

    def GetMetadata(self, request: broker.GetMetadataRequest, context: Any) -> broker.GetMetadataReply:
        self.permissions(context)
        self.limit_items(context, "names", request.names)
        if not request.names:
            return broker.GetMetadataReply(list=[metadata(entry) for entry in self.db.entries])
        found = [self.db.by_path[name] for name in request.names if name in self.db.by_path]
        return broker.GetMetadataReply(list=[metadata(entry) for entry in found])
