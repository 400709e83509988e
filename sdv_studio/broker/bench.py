"""Bench mode: what a vehicle would do behind the broker, when there is none.

On a bench nothing turns an actuator's target into its current value, so an app that sets the
low beam and reads it back sees it never change. KUKSA's mock provider and the digital.auto
runtime reflect targets into current values; so does this broker, after a short delay, for every
actuator no real provider has claimed (``Database.claimed``), whichever API set the target.

Initial sensor values can be seeded from a JSON file ``{path: value}`` (``--signals``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from sdv_studio.broker import values
from sdv_studio.broker.store import CURRENT, Change, Database
from sdv_studio.broker.values import Value
from sdv_studio.broker.vss import Entry

DEFAULT_DELAY_MS = 50
PENDING_LIMIT = 10_000  # a flood of targets drops its oldest reflections, never grows memory


class SignalsError(ValueError):
    """A --signals file that cannot be read or names values the catalogue refuses: one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ActuatorMirror:
    """Reflects actuator targets into current values ``delay`` seconds after they were set.

    The delay is the same for every target, so the pending reflections fall due in the order
    they were queued: one thread working through a FIFO serves them all.
    """

    def __init__(self, db: Database, delay: float) -> None:
        self._db = db
        self._delay = delay
        self._pending: deque[tuple[float, Entry, Value]] = deque(maxlen=PENDING_LIMIT)
        self._wake = threading.Condition(threading.Lock())
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="bench-actuators", daemon=True)
        self._thread.start()

    def target_set(self, entry: Entry, value: Value) -> None:
        """Called by the database (under its lock) for each new target of an unclaimed actuator."""
        with self._wake:
            self._pending.append((time.monotonic() + self._delay, entry, value))
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _next_due(self) -> tuple[Entry, Value] | None:
        """The next reflection once it is due; None when stopped."""
        with self._wake:
            while not self._stopped:
                if not self._pending:
                    self._wake.wait()
                    continue
                due, entry, value = self._pending[0]
                wait = due - time.monotonic()
                if wait <= 0:
                    self._pending.popleft()
                    return entry, value
                self._wake.wait(wait)
            return None

    def _run(self) -> None:
        while (item := self._next_due()) is not None:
            entry, value = item
            with self._db.lock:  # a provider that claimed the actuator meanwhile now owns it
                if not self._db.claimed(entry):
                    self._db.update([Change(entry, CURRENT, value)])


def _fits(datatype: str, raw: Any) -> bool:
    """Whether a JSON value has the datatype's shape (coerce_json would turn 1.5 into an int 1)."""
    if values.is_array(datatype):
        return isinstance(raw, list) and all(_fits(values.base_type(datatype), item) for item in raw)
    if datatype == "boolean":
        return isinstance(raw, bool)
    if datatype == "string":
        return isinstance(raw, str)
    if datatype in ("float", "double"):
        return isinstance(raw, (int, float)) and not isinstance(raw, bool)
    return isinstance(raw, int) and not isinstance(raw, bool)


def seed_changes(db: Database, raw: Any) -> list[Change]:
    """The current values a ``{path: value}`` document sets; SignalsError naming every bad one."""
    if not isinstance(raw, dict):
        raise SignalsError(["must be a JSON object {\"Vehicle.Path\": value, …}"])
    changes, problems = [], []
    for path, item in raw.items():
        entry = db.by_path.get(path)
        if entry is None:
            problems.append(f"{path}: no such signal in the VSS catalogue")
        elif not _fits(entry.datatype, item):
            problems.append(f"{path}: {json.dumps(item)} is not a {entry.datatype}")
        else:
            change = Change(entry, CURRENT, values.coerce_json(entry.datatype, item))
            error = db.validate(change)
            if error is None:
                changes.append(change)
            else:
                problems.append(f"{path}: {json.dumps(item)} refused ({error.value})")
    if problems:
        raise SignalsError(problems)
    return changes


def seed(db: Database, path: Path) -> None:
    """Set the current values a ``--signals`` file names; raises SignalsError."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SignalsError([f"cannot read {path}: {exc}"]) from exc
    db.update(seed_changes(db, raw))
