"""Staged releases: installed now, started later when a condition holds (docs/agent-protocol.md).

``stage`` installs a release and records, in the app's folder (``staged.json``), what is to start
and when: an idle condition on VSS signals or a daily time window. A supervised watcher
(``watch-staged``, staged_watch.py) checks every staged request; when one holds it runs
``switch-staged``, which starts the release through the same health gate and rollback as a
deployment. The records live on disk and the watcher under the supervisor, so a staged request
outlives the workstation's connection, the agent's restart and (with the boot hook) a reboot.
``unstage`` cancels one; what runs meanwhile is never touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time

from . import boothook, client, procs, switch
from .apps import existing_store, require_name
from .errors import AgentError, BadRequest
from .install import install
from .jsonfile import write_json
from .layout import Layout
from .schedule import parse_when
from .staged_record import drop_record, read_record, record_path
from .store import AppStore, all_apps
from .venvs import venv_python

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Iterator, List, Optional

WATCHER = "sdv-staged"
# What a deployment's start settings may carry into the switch (see switch.SETTINGS).
START_KEYS = (*switch.SETTINGS, "hotSwap", "rollback")


@contextlib.contextmanager
def watch_lock(layout: Layout) -> Iterator[None]:
    """Held while a staged request is written and the watcher checked, and while the watcher decides
    to end: it never ends while a request it has not seen waits."""
    layout.ensure()
    with open(os.path.join(layout.run, "staged.lock"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def all_records(layout: Layout) -> List[Dict[str, Any]]:
    found = []
    for name in all_apps(layout):
        record = read_record(AppStore(layout, name))
        if record:
            found.append(dict(record, name=name))
    return found


def _reader(args: Dict[str, Any], when: Dict[str, Any], layout: Layout) -> Optional[Dict[str, Any]]:
    """How the watcher reads an idle condition's signals: the databroker the app is wired to, the
    token and CA to present, and the venv whose grpcio and KUKSA stubs it uses (vss_reader.py)."""
    if "idle" not in when:
        return None
    reader = args.get("reader")
    if not isinstance(reader, dict) or not reader.get("broker") or not reader.get("venv"):
        raise BadRequest("reader: an idle condition needs {broker: HOST:PORT, venv: NAME, token?, caFile?}")
    python = venv_python(os.path.join(layout.venvs, str(reader["venv"])))
    if not os.path.exists(python):
        raise AgentError("reader: venv %s is not on the device (the workstation installs it first)" % reader["venv"])
    return {k: reader[k] for k in ("broker", "venv", "token", "caFile", "serverName") if reader.get(k)}


def stage(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """``deploy``'s arguments plus ``when`` (``{"idle": CONDITION}`` or ``{"window": "HH:MM-HH:MM"}``)
    and, for idle, ``reader``: install now, start when the condition holds."""
    when = parse_when(args.get("when"))
    reader = _reader(args, when, layout)
    if args.get("package") or args.get("dir"):
        installed = install(layout, args)
    elif args.get("packageId"):
        store = AppStore(layout, require_name(args))
        found = store.find_package(str(args["packageId"]))
        if not found:
            raise AgentError("%s has no release with package %s" % (store.name, args["packageId"]))
        installed = dict(found, alreadyInstalled=True)
    else:
        raise BadRequest("stage: give package, dir, or name with packageId")
    store = AppStore(layout, installed["name"])
    kept = ("name", "release", "version", "packageId", "alreadyInstalled", "sent", "reused")
    answer: Dict[str, Any] = {k: installed[k] for k in kept if k in installed}
    with store.locked():
        client.ensure(layout)
        running = switch.running(layout, store.name)
        if any(i["release"] == installed["release"] for i in running):
            drop_record(store)  # what a request staged before would have started already runs
            return dict(answer, staged=False, alreadyRunning=True)
        replaced = drop_record(store)
        record = {"release": installed["release"], "version": installed["version"],
                  "packageId": installed["packageId"], "when": when, "reader": reader,
                  "start": {k: args[k] for k in START_KEYS if k in args},
                  "stagedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "agentPython": sys.executable, "deploymentId": args.get("deploymentId")}
        with watch_lock(layout):
            write_json(record_path(store), record)
            watcher = ensure_watcher(layout)
    answer.update(staged=True, when=when, running=running[0]["release"] if running else None, watcher=watcher,
                  replaced=replaced["release"] if replaced else None)
    if args.get("bootHook"):
        answer["bootHook"] = boothook.ensure(layout)
    return answer


def _watcher_python(layout: Layout) -> str:
    """The venv's Python when a request reads signals (it has grpcio), else the agent's own."""
    for record in all_records(layout):
        venv = (record.get("reader") or {}).get("venv")
        if venv and os.path.exists(venv_python(os.path.join(layout.venvs, venv))):
            return venv_python(os.path.join(layout.venvs, venv))
    return sys.executable


def ensure_watcher(layout: Layout) -> Dict[str, Any]:
    """The watcher runs, with the Python the staged requests need. Call with ``watch_lock`` held."""
    argv = [_watcher_python(layout), client.agent_script(), "watch-staged", json.dumps({"home": layout.base})]
    for inst in client.request(layout, {"op": "list", "app": WATCHER})["instances"]:
        alive = inst.get("want") == "running" and inst.get("pid") and procs.alive(inst["pid"], inst.get("startTicks"))
        if alive and inst.get("argv") == argv:
            return {"pid": inst["pid"], "started": False}
        # Safe to replace at any time: a switch it started runs in a session of its own.
        client.request(layout, {"op": "remove", "id": inst["id"]})
    spec = {"id": "%s@service@%d" % (WATCHER, int(time.time() * 1000)), "app": WATCHER, "release": "service",
            "version": "", "kind": "service", "argv": argv, "cwd": layout.base, "env": {},
            "log": os.path.join(layout.logs, WATCHER, "service.log"), "restart": True, "health": {},
            "memory": None, "cpu": None, "once": True}
    inst = client.request(layout, {"op": "spawn", "instance": spec})["instance"]
    return {"pid": inst.get("pid"), "started": True}


def unstage(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Cancels the app's staged request; the running release is not touched."""
    store = existing_store(layout, require_name(args))
    with store.locked():  # a switch under way finishes first: then there is nothing left to cancel
        record = drop_record(store)
    if not record:
        last = store.meta().get("lastStaged") or {}
        done = " (%s %s was %s at %s)" % (store.name, last.get("version"), last.get("outcome"), last.get("at")) \
            if last else ""
        raise AgentError("%s has no staged release%s" % (store.name, done), {"lastStaged": last or None})
    return {"name": store.name, "cancelled": {"release": record["release"], "version": record.get("version"),
                                              "condition": (record.get("when") or {}).get("idle")
                                              or (record.get("when") or {}).get("window")}}


def switch_staged(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Starts the app's staged release (``release``, if it is still the one staged) through the health
    gate, and records how that ended in the app's ``lastStaged``. Started by the watcher."""
    store = existing_store(layout, require_name(args))
    with store.locked():
        record = read_record(store)
        if not record or record["release"] != args.get("release"):
            return {"name": store.name, "switched": False, "reason": "no longer staged"}
        outcome = {"release": record["release"], "version": record.get("version"), "when": record.get("when"),
                   "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # type: Dict[str, Any]
        try:
            started = switch.activate(layout, store, record["release"], dict(record.get("start") or {}))
            outcome.update(outcome="started", mode=started.get("mode"), previous=started.get("previous"))
        except AgentError as exc:
            outcome.update(outcome="failed", reason=str(exc), rolledBack=exc.details.get("rolledBack"),
                           rolledBackTo=exc.details.get("rolledBackTo"))
        drop_record(store)  # once tried, never again on its own: a failed gate would fail again
        meta = store.meta()
        meta["lastStaged"] = outcome
        store.save_meta(meta)
    return dict(outcome, name=store.name, switched=outcome["outcome"] == "started")
