"""kuksa.val.v2 VAL service, with the real databroker's status codes and messages."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc

from sdv_studio.broker import auth, convert, matching
from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as types
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as val
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as val_grpc
from sdv_studio.broker.service_base import (
    MAX_PATH_LENGTH,
    MAX_REQUEST_ITEMS,
    SERVER_NAME,
    SERVER_VERSION,
    Service,
    datatype_name,
    entry_type_name,
)
from sdv_studio.broker.store import CURRENT, TARGET, Change, Datapoint, metadata_value, without_repeats
from sdv_studio.broker.values import UpdateError, Value
from sdv_studio.broker.vss import Entry

Code = grpc.StatusCode
MAX_BUFFER_SIZE = 1000
# SDV Studio's own Subscribe extension, ignored by KUKSA's databroker: a subscriber that sends
# this header (milliseconds, up to MAX_GATHER_MS) gets the changes of that long in one message,
# every value kept (a signal that changes again starts the next message). A publisher that sets
# ten signals one PublishValue at a time (kuksa-client's set_current_values) otherwise makes ten
# messages, each one a round of work for a subscriber that reads through SSH (the Monitor).
GATHER_HEADER = "x-sdv-gather-ms"
MAX_GATHER_MS = 200
# Messages waiting for a provider that does not read its stream: beyond, its own requests wait
# unread and actuations for it are refused, instead of piling up in memory.
PROVIDER_BACKLOG = 1000

_UPDATE_STATUS = {
    UpdateError.NOT_FOUND: (Code.NOT_FOUND, "Signal not found"),
    UpdateError.WRONG_TYPE: (Code.INVALID_ARGUMENT, "Wrong type provided"),
    UpdateError.OUT_OF_BOUNDS_ALLOWED: (Code.INVALID_ARGUMENT, "Value out of allowed bounds"),
    UpdateError.OUT_OF_BOUNDS_MINMAX: (Code.INVALID_ARGUMENT, "Value out of min/max bounds"),
    UpdateError.OUT_OF_BOUNDS_TYPE: (Code.INVALID_ARGUMENT, "Value out of type bounds"),
    UpdateError.PERMISSION_DENIED: (Code.PERMISSION_DENIED, "Permission denied"),
    UpdateError.PERMISSION_EXPIRED: (Code.UNAUTHENTICATED, "Permission expired"),
}
_ERROR_CODE = {
    Code.NOT_FOUND: types.ERROR_CODE_NOT_FOUND,
    Code.INVALID_ARGUMENT: types.ERROR_CODE_INVALID_ARGUMENT,
    Code.PERMISSION_DENIED: types.ERROR_CODE_PERMISSION_DENIED,
    Code.UNAUTHENTICATED: types.ERROR_CODE_PERMISSION_DENIED,
}


class _Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _limit_items(field: str, items: Any) -> None:
    if len(items) > MAX_REQUEST_ITEMS:
        raise _Refused(Code.INVALID_ARGUMENT, f"{field}: {len(items)} in one request, at most {MAX_REQUEST_ITEMS}")


def _datapoint(point: Datapoint | None) -> types.Datapoint:
    message = types.Datapoint()
    convert.fill_datapoint(message, point, v2=True)
    return message


def _value(entry: Entry, raw: Any) -> types.Value | None:
    value = metadata_value(entry, raw)
    if value is None:
        return None
    message = types.Value()
    convert.fill(message, value)
    return message


def metadata(entry: Entry) -> types.Metadata:
    return types.Metadata(
        path=entry.path,
        id=entry.id,
        data_type=types.DataType.Value(datatype_name(entry)),
        entry_type=types.EntryType.Value(entry_type_name(entry)),
        description=entry.description,
        comment=entry.comment,
        deprecation=entry.deprecation,
        unit=entry.unit,
        allowed_values=_value(entry, entry.allowed),
        min=_value(entry, entry.min),
        max=_value(entry, entry.max),
    )


class ValV2(Service, val_grpc.VALServicer):
    def _resolve(self, signal_id: types.SignalID | None) -> Entry:
        if signal_id is None:
            raise _Refused(Code.INVALID_ARGUMENT, "No SignalId provided")
        which = signal_id.WhichOneof("signal")
        if which == "path":
            if len(signal_id.path) > MAX_PATH_LENGTH:
                raise _Refused(Code.INVALID_ARGUMENT, "The provided path is too long")
            entry = self.db.by_path.get(signal_id.path)
            if entry is None:
                raise _Refused(Code.NOT_FOUND, f"Invalid path in signal_id provided {signal_id.path}")
            return entry
        if which == "id":
            entry = self.db.by_id.get(signal_id.id)
            if entry is None:
                raise _Refused(Code.NOT_FOUND, f"Invalid id in signal_id provided {signal_id.id}")
            return entry
        raise _Refused(Code.INVALID_ARGUMENT, "No SignalId provided")

    def _readable(self, perms: auth.Permissions, signal_id: types.SignalID | None) -> Entry:
        entry = self._resolve(signal_id)
        if not perms.allows(auth.READ, entry):
            raise _Refused(Code.PERMISSION_DENIED, "Permission denied")
        return entry

    def GetValue(self, request: val.GetValueRequest, context: Any) -> val.GetValueResponse:
        perms = self.permissions(context)
        try:
            entry = self._readable(perms, request.signal_id if request.HasField("signal_id") else None)
        except _Refused as exc:
            context.abort(exc.code, exc.message)
        return val.GetValueResponse(data_point=_datapoint(self.db.get(entry)))

    def GetValues(self, request: val.GetValuesRequest, context: Any) -> val.GetValuesResponse:
        perms = self.permissions(context)
        self.limit_items(context, "signal_ids", request.signal_ids)
        try:
            entries = [self._readable(perms, signal_id) for signal_id in request.signal_ids]
        except _Refused as exc:
            context.abort(exc.code, exc.message)
        return val.GetValuesResponse(data_points=[_datapoint(self.db.get(entry)) for entry in entries])

    def _subscription_entries(
        self, context: Any, ids: list[types.SignalID], buffer_size: int
    ) -> list[Entry]:
        perms = self.permissions(context)
        try:
            if not ids:
                raise _Refused(Code.INVALID_ARGUMENT, "No valid id or path specified")
            entries = [self._readable(perms, signal_id) for signal_id in ids]
            if buffer_size > MAX_BUFFER_SIZE:
                raise _Refused(Code.INVALID_ARGUMENT, "Subscription buffer_size max allowed value is 1000")
        except _Refused as exc:
            context.abort(exc.code, exc.message)
        return entries

    def _stream(self, context: Any, entries: list[Entry], by_id: bool) -> Iterator[Any]:
        response_type = val.SubscribeByIdResponse if by_id else val.SubscribeResponse
        keys = [(entry.id, CURRENT) for entry in entries]
        with self.db.lock:
            subscription = self.subscribe(context, keys)
            # Like the real broker: the first message carries every subscribed signal's state.
            initial = response_type()
            for entry in entries:
                initial.entries[entry.id if by_id else entry.path].CopyFrom(_datapoint(self.db.get(entry)))
        gather = _gather_seconds(context)
        try:
            yield initial
            while (notification := subscription.next()) is not None:
                batch = [notification]
                if gather:
                    time.sleep(gather)
                    batch += subscription.drain()
                for merged in without_repeats(batch):
                    response = response_type()
                    for (entry_id, _field), point in merged.items():
                        key = entry_id if by_id else self.db.by_id[entry_id].path
                        response.entries[key].CopyFrom(_datapoint(point))
                    yield response
        finally:
            self.db.unsubscribe(subscription)

    def Subscribe(self, request: val.SubscribeRequest, context: Any) -> Iterator[Any]:
        self.limit_items(context, "signal_paths", request.signal_paths)
        ids = [types.SignalID(path=path) for path in request.signal_paths]
        entries = self._subscription_entries(context, ids, request.buffer_size)
        yield from self._stream(context, entries, by_id=False)

    def SubscribeById(self, request: val.SubscribeByIdRequest, context: Any) -> Iterator[Any]:
        self.limit_items(context, "signal_ids", request.signal_ids)
        ids = [types.SignalID(id=signal_id) for signal_id in request.signal_ids]
        entries = self._subscription_entries(context, ids, request.buffer_size)
        yield from self._stream(context, entries, by_id=True)

    def _actuation(self, perms: auth.Permissions, request: val.ActuateRequest) -> tuple[Entry, Value]:
        if not request.HasField("value"):
            raise _Refused(Code.INVALID_ARGUMENT, "No value provided")
        if not request.HasField("signal_id"):
            raise _Refused(Code.INVALID_ARGUMENT, "No signal_id provided")
        entry = self._resolve(request.signal_id)
        if not perms.allows(auth.ACTUATE, entry):
            raise _Refused(Code.PERMISSION_DENIED, f"Permission denied for {entry.path}")
        if entry.entry_type != "actuator":
            raise _Refused(Code.INVALID_ARGUMENT, f"Tried to set a value for a non-actuator: {entry.path}")
        value = convert.read(request.value, "typed_value")
        if value is None:
            raise _Refused(Code.INVALID_ARGUMENT, "No value provided")
        error = self.db.validate(Change(entry, CURRENT, value))
        if error is not None:
            raise _Refused(Code.INVALID_ARGUMENT, f"{_UPDATE_STATUS[error][1]} (id: {entry.id})")
        if entry.id not in self.db.providers and not self.db.bench_mode:
            raise _Refused(Code.UNAVAILABLE, f"Provider for vss_id {entry.id} does not exist")
        return entry, value

    def _actuate_all(self, context: Any, requests: list[val.ActuateRequest]) -> None:
        perms = self.permissions(context)
        by_provider: dict[Any, list[tuple[Entry, Value]]] = {}
        unclaimed: list[Change] = []
        with self.db.lock:  # no provider leaves between the check and the lookup
            try:
                actuations = [self._actuation(perms, request) for request in requests]
            except _Refused as exc:
                context.abort(exc.code, exc.message)
            for entry, value in actuations:
                provider = self.db.providers.get(entry.id)
                if provider is None:  # bench mode (else _actuation refused it): the target is kept and reflected
                    unclaimed.append(Change(entry, TARGET, value))
                else:
                    by_provider.setdefault(provider, []).append((entry, value))
            self.db.update(unclaimed)
        for provider, batch in by_provider.items():
            try:
                provider(batch)
            except _Refused as exc:  # the provider's stream is full: it does not read it
                context.abort(exc.code, exc.message)

    def Actuate(self, request: val.ActuateRequest, context: Any) -> val.ActuateResponse:
        self._actuate_all(context, [request])
        return val.ActuateResponse()

    def BatchActuate(self, request: val.BatchActuateRequest, context: Any) -> val.BatchActuateResponse:
        self.limit_items(context, "actuate_requests", request.actuate_requests)
        self._actuate_all(context, list(request.actuate_requests))
        return val.BatchActuateResponse()

    def ListMetadata(self, request: val.ListMetadataRequest, context: Any) -> val.ListMetadataResponse:
        self.permissions(context)
        if len(request.root) > MAX_PATH_LENGTH:
            context.abort(Code.INVALID_ARGUMENT, f"root: longer than {MAX_PATH_LENGTH} characters")
        entry = self.db.by_path.get(request.root)
        if entry is not None:
            return val.ListMetadataResponse(metadata=[metadata(entry)])
        try:
            found = matching.select(request.root, self.db.entries)
        except ValueError:
            context.abort(Code.INVALID_ARGUMENT, "Invalid Pattern Argument")
        if not found:
            context.abort(Code.NOT_FOUND, "Specified root branch does not exist")
        return val.ListMetadataResponse(metadata=[metadata(entry) for entry in found])

    def _publish(self, perms: auth.Permissions, entry: Entry, point: types.Datapoint) -> UpdateError | None:
        if not perms.allows(auth.PROVIDE, entry):
            return UpdateError.PERMISSION_DENIED
        value = convert.read(point.value, "typed_value") if point.HasField("value") else None
        change = Change(entry, CURRENT, value, convert.seconds(point.timestamp))
        errors = self.db.update([change])
        return errors[0][1] if errors else None

    def PublishValue(self, request: val.PublishValueRequest, context: Any) -> val.PublishValueResponse:
        perms = self.permissions(context)
        try:
            entry = self._resolve(request.signal_id if request.HasField("signal_id") else None)
        except _Refused as exc:
            context.abort(exc.code, exc.message)
        error = self._publish(perms, entry, request.data_point)
        if error is not None:
            code, message = _UPDATE_STATUS[error]
            context.abort(code, f"{message} (id: {entry.id})")
        return val.PublishValueResponse()

    def OpenProviderStream(self, request_iterator: Any, context: Any) -> Iterator[Any]:
        perms = self.permissions(context)
        out: queue.Queue[Any] = queue.Queue(PROVIDER_BACKLOG)
        ended = threading.Event()
        claimed: list[int] = []

        def end() -> None:
            ended.set()
            with contextlib.suppress(queue.Full):  # a full queue: the writer sees `ended` when it has drained
                out.put_nowait(None)

        def deliver(item: Any) -> None:
            """Queue a reply, waiting while the provider does not read its stream."""
            while not ended.is_set():
                try:
                    out.put(item, timeout=1.0)
                    return
                except queue.Full:
                    continue

        def send_actuations(batch: list[tuple[Entry, Value]]) -> None:
            requests = []
            for entry, value in batch:
                message = val.ActuateRequest(signal_id=types.SignalID(id=entry.id))
                convert.fill(message.value, value)
                requests.append(message)
            try:
                out.put_nowait(val.OpenProviderStreamResponse(
                    batch_actuate_stream_request=val.BatchActuateStreamRequest(actuate_requests=requests)))
            except queue.Full:
                ids = ", ".join(str(entry.id) for entry, _value in batch)
                raise _Refused(Code.UNAVAILABLE, f"Provider for vss_id {ids} is not reading its stream") from None

        def read_requests() -> None:
            try:
                for request in request_iterator:
                    deliver(self._provider_reply(perms, request, claimed, send_actuations))
            except _Refused as exc:
                deliver(exc)
                return
            except grpc.RpcError:
                end()  # the stream broke off: end as when the provider cancelled it
                return
            # The provider closed its side. Like the real databroker, keep sending it actuations for
            # what it claimed until it cancels (kuksa-client's subscribe_target_values sends its
            # claim and closes); with nothing claimed there is nothing more to say.
            if not claimed:
                end()

        # The provider's requests and the actuations for it arrive independently: read the
        # requests on a thread of their own while this one writes the responses.
        context.add_callback(end)
        threading.Thread(target=read_requests, name="provider-stream", daemon=True).start()
        try:
            while True:
                try:
                    item = out.get(timeout=1.0)
                except queue.Empty:
                    if ended.is_set():
                        return
                    continue
                if item is None:
                    return
                if isinstance(item, _Refused):
                    context.abort(item.code, item.message)
                if item.WhichOneof("action") is not None:
                    yield item
        finally:
            ended.set()  # the reader stops waiting to deliver
            with self.db.lock:
                for entry_id in claimed:
                    if self.db.providers.get(entry_id) is send_actuations:
                        del self.db.providers[entry_id]

    def _provider_reply(
        self, perms: auth.Permissions, request: val.OpenProviderStreamRequest, claimed: list[int], send: Any
    ) -> val.OpenProviderStreamResponse:
        action = request.WhichOneof("action")
        if action == "provide_actuation_request":
            _limit_items("actuator_identifiers", request.provide_actuation_request.actuator_identifiers)
            entries = [self._resolve(signal_id) for signal_id in request.provide_actuation_request.actuator_identifiers]
            with self.db.lock:  # two providers claiming the same actuator: one of them wins
                for entry in entries:
                    if not perms.allows(auth.PROVIDE, entry):
                        raise _Refused(Code.PERMISSION_DENIED, f"Permission denied for {entry.path}")
                    owner = self.db.providers.get(entry.id)
                    if owner is not None and owner is not send:
                        raise _Refused(Code.ALREADY_EXISTS, f"Provider for vss_id {entry.id} already registered")
                for entry in entries:
                    self.db.providers[entry.id] = send
                    claimed.append(entry.id)
            return val.OpenProviderStreamResponse(provide_actuation_response=val.ProvideActuationResponse())
        if action == "publish_values_request":
            publish = request.publish_values_request
            _limit_items("data_points", publish.data_points)
            response = val.PublishValuesResponse(request_id=publish.request_id)
            for signal_id, point in publish.data_points.items():
                target = self.db.by_id.get(signal_id)
                error = UpdateError.NOT_FOUND if target is None else self._publish(perms, target, point)
                if error is not None:
                    code, message = _UPDATE_STATUS[error]
                    response.status[signal_id].CopyFrom(
                        types.Error(code=_ERROR_CODE[code], message=f"{message} (id: {signal_id})"))
            return val.OpenProviderStreamResponse(publish_values_response=response)
        if action == "provide_signal_request":
            return val.OpenProviderStreamResponse(provide_signal_response=val.ProvideSignalResponse())
        return val.OpenProviderStreamResponse()  # responses to our requests need no answer

    def GetServerInfo(self, request: val.GetServerInfoRequest, context: Any) -> val.GetServerInfoResponse:
        return val.GetServerInfoResponse(name=SERVER_NAME, version=SERVER_VERSION, commit_hash="")


def _gather_seconds(context: Any) -> float:
    """How long the subscriber asked changes to be gathered (GATHER_HEADER); 0: each on its own."""
    for key, value in context.invocation_metadata() or ():
        if key == GATHER_HEADER:
            try:
                return min(max(int(value), 0), MAX_GATHER_MS) / 1000
            except ValueError:
                return 0.0
    return 0.0
