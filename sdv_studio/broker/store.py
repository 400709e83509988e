"""The signal database: current and target values, atomic validated updates, subscribers.

The gRPC handlers run on the server's worker threads: an update validates every change first and
applies none if one fails (as the real databroker's update_entries does), all under the database
lock, so subscribers see updates whole and in order.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sdv_studio.broker import values
from sdv_studio.broker.values import UpdateError, Value
from sdv_studio.broker.vss import Entry

if TYPE_CHECKING:
    from typing import TypeAlias  # novermin: for the type checker only

CURRENT = "value"
TARGET = "target"
# Notifications queued for a subscriber that reads slower than signals change. Past this (or past
# as many values queued as it subscribed to, plus this), its queue is merged into one notification
# of each signal's latest value: the broker never blocks on it, its memory stays bounded, and it
# still learns every signal's last change.
QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Datapoint:
    value: Value | None
    timestamp: float  # seconds since the epoch


@dataclass(frozen=True)
class Change:
    entry: Entry
    field: str  # CURRENT or TARGET
    value: Value | None
    timestamp: float | None = None


Notification: TypeAlias = "dict[tuple[int, str], Datapoint]"  # quoted for Python 3.8, as values.Value


class Subscription:
    """A queue of notifications: each a dict {(entry id, field): Datapoint} of what changed.

    The subscriber's stream blocks in next() until a notification arrives or the subscription is
    closed (its RPC ended), which ends the stream.
    """

    def __init__(self, keys: Iterable[tuple[int, str]]) -> None:
        self.keys = frozenset(keys)
        self._queue: deque[Notification] = deque()
        self._queued_values = 0
        self._value_limit = len(self.keys) + QUEUE_LIMIT
        self._ready = threading.Condition(threading.Lock())
        self._closed = False

    def push(self, notification: Notification) -> None:
        with self._ready:
            self._queue.append(notification)
            self._queued_values += len(notification)
            if len(self._queue) > QUEUE_LIMIT or self._queued_values > self._value_limit:
                merged: Notification = {}
                for pending in self._queue:
                    merged.update(pending)  # later values win
                self._queue = deque((merged,))
                self._queued_values = len(merged)
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def next(self) -> Notification | None:
        """The oldest pending notification, waiting for one; None once closed."""
        with self._ready:
            while not self._queue and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            notification = self._queue.popleft()
            self._queued_values -= len(notification)
            return notification

    def drain(self) -> list[Notification]:
        """Every notification pending now, oldest first, without waiting."""
        with self._ready:
            pending = list(self._queue)
            self._queue.clear()
            self._queued_values = 0
            return pending


def without_repeats(notifications: Iterable[Notification]) -> list[Notification]:
    """``notifications`` merged, in order, into as few as hold every value: a new one starts where a
    signal changes again (so a subscriber that asked for updates gathered loses none of them)."""
    merged: list[Notification] = []
    for notification in notifications:
        if merged and not merged[-1].keys() & notification.keys():
            merged[-1].update(notification)
        else:
            merged.append(dict(notification))
    return merged


# Whoever claimed actuators over kuksa.val.v2 OpenProviderStream: called with the actuations.
ActuationProvider: TypeAlias = "Callable[[list[tuple[Entry, Value]]], None]"  # quoted for Python 3.8


class Database:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.by_path = {entry.path: entry for entry in entries}
        self.by_id = {entry.id: entry for entry in entries}
        self._data: dict[tuple[int, str], Datapoint] = {}
        self._subscribers: dict[tuple[int, str], set[Subscription]] = {}
        self.providers: dict[int, ActuationProvider] = {}
        # Bench mode: told of each new target of an actuator no provider has claimed.
        self.on_target: Callable[[Entry, Value], None] | None = None
        # Held for every change and for subscribing with an initial snapshot; reads of single
        # values need no lock (a dict lookup of an immutable Datapoint).
        self.lock = threading.RLock()
        now = time.time()
        for entry in entries:
            if entry.default is not None:
                self._data[(entry.id, CURRENT)] = Datapoint(entry.default, now)

    def get(self, entry: Entry, field: str = CURRENT) -> Datapoint | None:
        return self._data.get((entry.id, field))

    def validate(self, change: Change) -> UpdateError | None:
        if change.value is None:
            return None
        entry = change.entry
        return values.check(entry.datatype, entry.min, entry.max, entry.allowed, change.value)

    def update(self, changes: list[Change]) -> list[tuple[Entry, UpdateError]]:
        """Apply all changes or none; the refused ones with their reasons."""
        errors = [(c.entry, err) for c in changes if (err := self.validate(c)) is not None]
        if errors:
            return errors
        with self.lock:
            now = time.time()
            by_subscriber: dict[Subscription, Notification] = {}
            for change in changes:
                key = (change.entry.id, change.field)
                point = Datapoint(change.value, change.timestamp or now)
                self._data[key] = point
                for subscriber in self._subscribers.get(key, ()):
                    by_subscriber.setdefault(subscriber, {})[key] = point
            for subscriber, notification in by_subscriber.items():
                subscriber.push(notification)
            if self.on_target is not None:
                for change in changes:
                    if change.field == TARGET and change.value is not None and not self.claimed(change.entry):
                        self.on_target(change.entry, change.value)
        return []

    @property
    def bench_mode(self) -> bool:
        return self.on_target is not None

    def claimed(self, entry: Entry) -> bool:
        """Whether something acts on this actuator's targets: a kuksa.val.v2 provider that claimed
        it, or a kuksa.val.v1 subscriber to its target value (how v1 providers, and kuksa-client's
        subscribe_target_values against a broker without v2, wait for actuation requests)."""
        with self.lock:
            return entry.id in self.providers or bool(self._subscribers.get((entry.id, TARGET)))

    def subscribe(self, keys: Iterable[tuple[int, str]]) -> Subscription:
        """Take the initial state under self.lock too, so no update falls between the two."""
        subscription = Subscription(keys)
        with self.lock:
            for key in subscription.keys:
                self._subscribers.setdefault(key, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Also ends the subscriber's stream; called again (stream end after RPC end) it does nothing."""
        with self.lock:
            for key in subscription.keys:
                self._subscribers.get(key, set()).discard(subscription)
        subscription.close()

    def snapshot(self, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Datapoint | None]:
        return {key: self._data.get(key) for key in keys}


def metadata_value(entry: Entry, raw: Any) -> Value | None:
    """A VSS min/max/allowed number or list as a value of the entry's kind (for v2 metadata)."""
    if raw is None:
        return None
    if isinstance(raw, list):
        return values.coerce_json(entry.datatype if values.is_array(entry.datatype) else entry.datatype + "[]", raw)
    return values.coerce_json(values.base_type(entry.datatype), raw)
