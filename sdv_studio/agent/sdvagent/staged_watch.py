"""The ``watch-staged`` command: the supervised process that starts staged releases when their
condition holds (staging.py). Every POLL seconds it checks each staged request: a time window
against the device's local clock, an idle condition against the databroker's current values
(vss_reader.py). When one holds it starts ``switch-staged`` for that app in a session of its own,
so the switch, with its health gate and rollback, finishes even if this watcher is replaced meanwhile.
It ends (exit code 0, which the supervisor takes as done) once nothing is staged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from . import client
from .jsonfile import write_json
from .layout import Layout
from .schedule import condition_holds, condition_paths, in_window, parse_condition, parse_window
from .staged_record import observed_path, record_path
from .staging import all_records, watch_lock
from .store import AppStore

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Optional, Tuple

    from .vss_reader import SignalReader

POLL = 1.0
REWRITE_EVERY = 10.0  # seconds between writes of an unchanged observation (status shows its time)


def _say(line: str) -> None:
    sys.stdout.write("[sdv-staged %s] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), line))
    sys.stdout.flush()


class Watcher:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.readers: Dict[Tuple[Any, ...], SignalReader] = {}
        self.switching: Dict[str, subprocess.Popen] = {}
        self.last: Dict[str, Tuple[Any, float]] = {}

    def check(self, record: Dict[str, Any]) -> None:
        name = record["name"]
        running = self.switching.get(name)
        if running is not None:
            if running.poll() is None:
                return
            del self.switching[name]
        when = record.get("when") or {}
        if "window" in when:
            now = time.localtime()
            holds = in_window(parse_window(when["window"]), now.tm_hour * 60 + now.tm_min)
            seen = {"holds": holds, "values": {"localTime": time.strftime("%H:%M", now)}, "error": None}
        else:
            seen = self._idle(when["idle"], record.get("reader") or {})
        self._observed(record, seen)
        if seen["holds"]:
            self._switch(record)

    def _idle(self, condition: str, reader: Dict[str, Any]) -> Dict[str, Any]:
        comparisons = parse_condition(condition)
        from .vss_reader import ReadError  # grpc and the stubs load with it, in this process only

        try:
            values = self._reader(reader).read(condition_paths(comparisons))
        except (ReadError, OSError) as exc:
            return {"holds": False, "values": None, "error": str(exc)}
        return {"holds": condition_holds(comparisons, values), "values": values, "error": None}

    def _reader(self, reader: Dict[str, Any]) -> SignalReader:
        key = tuple(reader.get(k) for k in ("broker", "token", "caFile", "serverName"))
        if key not in self.readers:
            from .vss_reader import SignalReader

            self.readers[key] = SignalReader(str(reader["broker"]), reader.get("token"), reader.get("caFile"),
                                             reader.get("serverName"))
        return self.readers[key]

    def _observed(self, record: Dict[str, Any], seen: Dict[str, Any]) -> None:
        """Kept for status: written when it changes, else every REWRITE_EVERY seconds."""
        name = record["name"]
        state = (record["release"], seen["holds"], json.dumps(seen["values"], sort_keys=True), seen["error"])
        before = self.last.get(name)
        if before and before[0] == state and time.monotonic() - before[1] < REWRITE_EVERY:
            return
        if not before or before[0] != state:
            _say("%s %s: %s" % (name, record["release"], seen["error"] or "condition %s, values %s" % (
                "holds" if seen["holds"] else "does not hold", seen["values"])))
        self.last[name] = (state, time.monotonic())
        store = AppStore(self.layout, name)
        if not os.path.exists(record_path(store)):  # cancelled or uninstalled meanwhile: never recreate its folder
            return
        write_json(observed_path(store),
                   dict(seen, release=record["release"], switching=bool(seen["holds"]),
                        at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))

    def _switch(self, record: Dict[str, Any]) -> None:
        args = {"home": self.layout.base, "name": record["name"], "release": record["release"]}
        python = record.get("agentPython") or sys.executable
        _say("%s: starting %s" % (record["name"], record["release"]))
        self.switching[record["name"]] = subprocess.Popen(
            [python, client.agent_script(), "switch-staged", json.dumps(args)], stdin=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)

    def close(self) -> None:
        for reader in self.readers.values():
            reader.close()


def watch_staged(layout: Layout, _args: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    watcher = Watcher(layout)
    while True:
        with watch_lock(layout):
            records = all_records(layout)
            if not records:
                # Ends holding the lock (released as the process goes): a request staged from now on
                # finds this watcher gone and starts another.
                _say("nothing staged: done")
                watcher.close()
                os._exit(0)
        for record in records:
            watcher.check(record)
        time.sleep(POLL)
