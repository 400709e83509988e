"""kuksa.val.v1 VAL service: Get, Set, Subscribe, GetServerInfo, with v1's in-band error shapes."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Set
from typing import Any

import grpc

from sdv_studio.broker import auth, convert, matching
from sdv_studio.broker.proto.kuksa.val.v1 import types_pb2 as types
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2 as val
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as val_grpc
from sdv_studio.broker.service_base import (
    MAX_PATH_LENGTH,
    MAX_REQUEST_ITEMS,
    SERVER_NAME,
    SERVER_VERSION,
    Service,
    datatype_name,
    entry_type_name,
)
from sdv_studio.broker.store import CURRENT, TARGET, Change, Database, Datapoint
from sdv_studio.broker.values import UpdateError, base_type
from sdv_studio.broker.vss import Entry

Code = grpc.StatusCode
# The module-level enum ints: looking members up on the enum wrapper (types.Field.X) costs a
# Python call each time, and Get and Set use them on every request.
PATH, VALUE, METADATA = types.FIELD_PATH, types.FIELD_VALUE, types.FIELD_METADATA
TARGET_VALUE = types.FIELD_ACTUATOR_TARGET
_VIEW_FIELDS: dict[int, frozenset[int]] = {
    types.VIEW_UNSPECIFIED: frozenset({PATH, VALUE}),
    types.VIEW_CURRENT_VALUE: frozenset({PATH, VALUE}),
    types.VIEW_TARGET_VALUE: frozenset({PATH, TARGET_VALUE}),
    types.VIEW_METADATA: frozenset({PATH, METADATA}),
    types.VIEW_FIELDS: frozenset(),
    types.VIEW_ALL: frozenset({PATH, VALUE, TARGET_VALUE, METADATA}),
}
_READS_VALUES = frozenset({VALUE, TARGET_VALUE})
# (code, reason, message) for Set errors, as the real databroker words them.
_SET_ERRORS = {
    UpdateError.NOT_FOUND: (404, "not found", "no datapoint registered for path {path}"),
    UpdateError.WRONG_TYPE: (400, "type mismatch", "cannot set existing datapoint to value of different type"),
    UpdateError.OUT_OF_BOUNDS_TYPE: (400, "value out of bounds", "given value exceeds type's boundaries"),
    UpdateError.OUT_OF_BOUNDS_ALLOWED: (400, "value out of bounds", "given value exceeds type's boundaries"),
    UpdateError.OUT_OF_BOUNDS_MINMAX: (400, "value out of bounds", "given value exceeds type's boundaries"),
    UpdateError.PERMISSION_DENIED: (403, "forbidden", "Access was denied for {path}"),
    UpdateError.PERMISSION_EXPIRED: (401, "unauthorized", "Unauthorized"),
}
_FIELD_OF = {CURRENT: VALUE, TARGET: TARGET_VALUE}
# Wildcard or branch paths in one request: each one is matched against the whole catalogue.
MAX_PATTERNS = 100
MAX_FIELDS = 32  # fields asked for in one entry: more than Field has members, few enough to cache
_SET_FIELDS = ((VALUE, auth.PROVIDE, "value"), (TARGET_VALUE, auth.ACTUATE, "actuator_target"))


def _fields(view: int, fields: Any) -> frozenset[int]:
    """Raises _TooMuch for more than MAX_FIELDS fields (the pairs are cached)."""
    if len(fields) > MAX_FIELDS:
        raise _TooMuch(f"fields: {len(fields)} in one entry, at most {MAX_FIELDS}")
    return _fields_of(view, tuple(fields))


@functools.lru_cache(maxsize=256)  # clients repeat a handful of (view, fields) pairs
def _fields_of(view: int, fields: tuple[int, ...]) -> frozenset[int]:
    wanted = set(_VIEW_FIELDS.get(view, ()))
    if view == types.VIEW_FIELDS or not wanted:
        wanted.update(fields)
    if METADATA in wanted or any(f >= types.FIELD_METADATA_DATA_TYPE for f in wanted):
        wanted.add(METADATA)
    wanted.add(PATH)
    return frozenset(wanted)


def _restriction(entry: Entry) -> types.ValueRestriction | None:
    if entry.min is None and entry.max is None and entry.allowed is None:
        return None
    base = base_type(entry.datatype)
    restriction = types.ValueRestriction()
    if base == "string":
        target: Any = restriction.string
    elif base.startswith("int"):
        target = restriction.signed
    elif base.startswith("uint"):
        target = restriction.unsigned
    elif base in ("float", "double"):
        target = restriction.floating_point
    else:
        return None
    if entry.min is not None:
        target.min = entry.min
    if entry.max is not None:
        target.max = entry.max
    if entry.allowed is not None:
        target.allowed_values.extend(entry.allowed)
    return restriction


def metadata(entry: Entry) -> types.Metadata:
    message = types.Metadata(
        data_type=types.DataType.Value(datatype_name(entry)),
        entry_type=types.EntryType.Value(entry_type_name(entry)),
        description=entry.description,
    )
    if entry.comment:
        message.comment = entry.comment
    if entry.deprecation:
        message.deprecation = entry.deprecation
    if entry.unit:
        message.unit = entry.unit
    restriction = _restriction(entry)
    if restriction is not None:
        message.value_restriction.CopyFrom(restriction)
    getattr(message, entry.entry_type).SetInParent()
    return message


class _TooMuch(Exception):
    """A request asks for more than one request may: answer INVALID_ARGUMENT with this message."""


class _Selection:
    """The signals one request's paths select, within MAX_PATTERNS patterns and MAX_REQUEST_ITEMS signals."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.patterns = 0
        self.selected = 0

    def select(self, path: str) -> list[Entry]:
        """Raises ValueError for an invalid pattern, _TooMuch past the bounds."""
        if len(path) > MAX_PATH_LENGTH:
            raise _TooMuch(f"path: {len(path)} characters, at most {MAX_PATH_LENGTH}")
        entry = self.db.by_path.get(path)
        if entry is not None:
            found = [entry]
        else:
            self.patterns += 1
            if self.patterns > MAX_PATTERNS:
                raise _TooMuch(f"entries: more than {MAX_PATTERNS} wildcard or branch paths in one request")
            found = matching.select(path, self.db.entries)
        self.selected += len(found)
        if self.selected > MAX_REQUEST_ITEMS:
            raise _TooMuch(f"entries: more than {MAX_REQUEST_ITEMS} signals selected in one request")
        return found


def _error(code: int, reason: str, message: str) -> types.Error:
    return types.Error(code=code, reason=reason, message=message)


class ValV1(Service, val_grpc.VALServicer):
    def __init__(self, db: Database, verifier: auth.JwtVerifier | None) -> None:
        super().__init__(db, verifier)
        # Entries never change once loaded: each one's Metadata is built once (kuksa-client's
        # set asks for it before every write) and copied into responses.
        self._metadata: dict[int, types.Metadata] = {}

    def _data_entry(
        self, message: types.DataEntry, entry: Entry, fields: Set[int], points: Mapping[str, Datapoint | None]
    ) -> None:
        """Fill message (an empty DataEntry in the response) in place: no copy of a built one."""
        message.path = entry.path
        if VALUE in fields and CURRENT in points:
            message.value.SetInParent()  # present even when the signal has no value yet
            convert.fill_datapoint(message.value, points[CURRENT])
        if TARGET_VALUE in fields and TARGET in points and entry.entry_type == "actuator":
            message.actuator_target.SetInParent()
            convert.fill_datapoint(message.actuator_target, points[TARGET])
        if METADATA in fields:
            cached = self._metadata.get(entry.id)
            if cached is None:
                cached = self._metadata.setdefault(entry.id, metadata(entry))
            message.metadata.CopyFrom(cached)

    def Get(self, request: val.GetRequest, context: Any) -> val.GetResponse:
        perms = self.permissions(context)
        if not request.entries:
            context.abort(Code.INVALID_ARGUMENT, "No datapoints requested")
        self.limit_items(context, "entries", request.entries)
        try:
            return self._get(request.entries, perms)
        except _TooMuch as exc:
            context.abort(Code.INVALID_ARGUMENT, str(exc))
            raise  # abort raises; this line only tells type checkers so

    def _get(self, entries_wanted: Any, perms: auth.Permissions) -> val.GetResponse:
        """Raises _TooMuch past the request bounds."""
        response = val.GetResponse()
        selection = _Selection(self.db)
        for wanted in entries_wanted:
            if "*" in wanted.path and not matching.is_valid(wanted.path):
                response.errors.add(path=wanted.path, error=_error(400, "bad_request", "Bad Wildcard Pattern Request"))
                continue
            try:
                entries = selection.select(wanted.path)
            except ValueError:
                response.errors.add(
                    path=wanted.path, error=_error(400, "bad regex", "Regex can't be created for provided path"))
                continue
            if not entries:
                response.errors.add(
                    path=wanted.path, error=_error(404, "not_found", "No entries found for the provided path"))
                continue
            fields = _fields(wanted.view, wanted.fields)
            if not fields.isdisjoint(_READS_VALUES) and not all(perms.allows(auth.READ, e) for e in entries):
                response.errors.add(
                    path=wanted.path, error=_error(403, "forbidden", "Permission denied for some entries"))
                continue
            for entry in entries:
                points = {CURRENT: self.db.get(entry, CURRENT), TARGET: self.db.get(entry, TARGET)}
                self._data_entry(response.entries.add(), entry, fields, points)
        if response.errors:
            response.error.CopyFrom(response.errors[0].error)
            if any(e.error.code == 403 for e in response.errors):
                del response.entries[:]  # no partial success when access is denied
        return response

    def Set(self, request: val.SetRequest, context: Any) -> val.SetResponse:
        perms = self.permissions(context)
        self.limit_items(context, "updates", request.updates)
        response = val.SetResponse()
        changes: list[Change] = []
        for update in request.updates:
            if not update.HasField("entry"):
                context.abort(Code.INVALID_ARGUMENT, "Path is required")
            data = update.entry
            entry = self.db.by_path.get(data.path)
            if entry is None:
                response.errors.add(path=data.path, error=_error(404, "not_found", f"{data.path} not found"))
                continue
            fields = set(update.fields)
            if data.HasField("actuator_target") and entry.entry_type != "actuator":
                context.abort(
                    Code.INVALID_ARGUMENT,
                    "Tried to set a target value for a non-actuator. Non-actuators have no target value.",
                )
            for field, action, source_name in _SET_FIELDS:
                if field not in fields:
                    continue
                source = getattr(data, source_name)
                if not perms.allows(action, entry):
                    code, reason, message = _SET_ERRORS[UpdateError.PERMISSION_DENIED]
                    response.errors.add(path=entry.path, error=_error(code, reason, message.format(path=entry.path)))
                    continue
                name = CURRENT if field == VALUE else TARGET
                changes.append(Change(entry, name, convert.read(source, "value"), convert.seconds(source.timestamp)))
        if response.errors:
            return response
        for entry, error in self.db.update(changes):
            code, reason, message = _SET_ERRORS[error]
            response.errors.add(path=entry.path, error=_error(code, reason, message.format(path=entry.path)))
        return response

    def Subscribe(self, request: val.SubscribeRequest, context: Any) -> Iterator[val.SubscribeResponse]:
        perms = self.permissions(context)
        if not request.entries:
            context.abort(Code.INVALID_ARGUMENT, "Subscription request must contain at least one entry.")
        self.limit_items(context, "entries", request.entries)
        wanted: dict[int, set[int]] = {}
        selection = _Selection(self.db)
        for item in request.entries:
            try:
                entries = selection.select(item.path)
                fields = _fields(item.view, item.fields)
            except ValueError:
                context.abort(Code.INVALID_ARGUMENT, f"Invalid path pattern: {item.path}")
            except _TooMuch as exc:
                context.abort(Code.INVALID_ARGUMENT, str(exc))
            if not entries:
                context.abort(Code.NOT_FOUND, f"Invalid path: {item.path}")
            if not all(perms.allows(auth.READ, entry) for entry in entries):
                context.abort(Code.PERMISSION_DENIED, f"Permission denied for {item.path}")
            for entry in entries:
                wanted.setdefault(entry.id, set()).update(fields)
        keys = [(i, name) for i, fields in wanted.items() for name, f in _FIELD_OF.items() if f in fields]
        with self.db.lock:
            subscription = self.subscribe(context, keys)
            initial = self._response(self.db.snapshot(keys), wanted)
        try:
            yield initial
            while (notification := subscription.next()) is not None:
                yield self._response(notification, wanted)
        finally:
            self.db.unsubscribe(subscription)

    def _response(
        self, changed: Mapping[tuple[int, str], Datapoint | None], wanted: dict[int, set[int]]
    ) -> Any:
        per_entry: dict[int, dict[str, Datapoint | None]] = {}
        for (entry_id, name), point in changed.items():
            per_entry.setdefault(entry_id, {})[name] = point
        response = val.SubscribeResponse()
        for entry_id, points in per_entry.items():
            entry = self.db.by_id[entry_id]
            fields = wanted[entry_id]
            sent = {_FIELD_OF[name] for name in points} & fields
            update = response.updates.add(fields=sorted(sent))
            self._data_entry(update.entry, entry, fields, points)
        return response

    def GetServerInfo(self, request: val.GetServerInfoRequest, context: Any) -> val.GetServerInfoResponse:
        return val.GetServerInfoResponse(name=SERVER_NAME, version=SERVER_VERSION)
