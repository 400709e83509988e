"""The app commands: status, health, logs, rollback, uninstall, inventory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time

from . import client, health, logs, procs, switch
from .errors import AgentError, BadRequest
from .jsonfile import read_json
from .layout import Layout, valid_name
from .staged_record import view as staged_view
from .store import AppStore, all_apps, file_index

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional


def require_name(args: Dict[str, Any]) -> str:
    name = args.get("name", "")
    if not valid_name(name):
        raise BadRequest("name: must be lowercase letters, digits and hyphens")
    return name


def existing_store(layout: Layout, name: str) -> AppStore:
    """The store of an app that must be installed (else the error every command gives)."""
    store = AppStore(layout, name)
    if not store.exists():
        raise AgentError("no app named %s" % name)
    return store


def instances(layout: Layout) -> List[Dict[str, Any]]:
    """What the supervisor runs. Without one, its state file, unless an app is meant to run:
    then the supervisor is started (it restarts those apps, e.g. after a reboot without systemd)."""
    if not client.supervisor_wanted(layout):
        return list(((read_json(layout.supervisor_state, {}) or {}).get("instances") or {}).values())
    return client.request(layout, {"op": "list"})["instances"]


def _app_status(store: AppStore, insts: List[Dict[str, Any]]) -> Dict[str, Any]:
    current = store.current()
    wanted = [i for i in insts if i.get("want") == "running"]
    wanted.sort(key=lambda i: i.get("release") != current)
    inst = wanted[0] if wanted else None
    release = inst["release"] if inst else current
    version = None
    if release:
        try:
            version = store.release(release)["version"]
        except AgentError:
            version = inst.get("version") if inst else None
    alive = bool(inst and inst.get("pid") and procs.alive(inst["pid"], inst.get("startTicks")))
    seen = app_state(inst, alive)
    return {
        "name": store.name, "version": version, "status": seen["status"], "runtime": "native",
        "pid": inst.get("pid") if alive and inst else None,
        "startedAt": inst.get("startedAt") if inst else None,
        "restarts": inst.get("restarts", 0) if inst else 0,
        "release": release, "current": current, "instances": len(wanted),
        "lastExit": inst.get("lastExit") if inst else None, "limits": inst.get("limits") if inst else None,
        "healthPort": (inst.get("health") or {}).get("port") if inst else None, "health": seen["health"],
        "staged": staged_view(store), "lastStaged": store.meta().get("lastStaged"),
    }


def app_state(inst: Optional[Dict[str, Any]], alive: bool) -> Dict[str, Any]:
    """running (up, its last health check passed), degraded (up, the check failed: its databroker
    unreachable, say), crashed (wanted but not up: the supervisor restarts it) or stopped; with the
    last check's verdict in the guide's fields."""
    if inst is None:
        return {"status": "stopped", "health": None}
    last = inst.get("lastHealth")
    if not alive:
        exited = inst.get("lastExit") or {}
        reason = "exited with code %s; restarting" % exited.get("code") if exited else "not running"
        return {"status": "crashed", "health": {
            "kuksa_connection": (last or {}).get("kuksa_connection"), "app_running": False,
            "last_check": exited.get("at") or (last or {}).get("last_check"), "reason": reason}}
    if not last:
        return {"status": "running", "health": None}
    fields = {k: last.get(k) for k in ("kuksa_connection", "app_running", "last_check", "reason")}
    return {"status": "running" if last.get("healthy") else "degraded", "health": fields}


def status(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Every app (or ``name``). With ``settle`` (an app's name), once a deploy, start or rollback
    of that app in progress has ended: what a cancelled deployment left behind."""
    settle = args.get("settle")
    if settle:
        store = AppStore(layout, require_name({"name": settle}))
        if store.exists():
            with store.locked():
                pass
    insts = instances(layout)
    names = [require_name(args)] if args.get("name") else all_apps(layout)
    apps = []
    for name in names:
        store = existing_store(layout, name)
        apps.append(_app_status(store, [i for i in insts if i.get("app") == name and i.get("kind") == "app"]))
    # "scheduled": started with a delay that has not run out yet (the mDNS advertiser).
    services = [{"name": i["app"], "status": i["status"] if i.get("status") in ("running", "scheduled") else "error",
                 "pid": i.get("pid"), "startedAt": i.get("startedAt"), "restarts": i.get("restarts", 0)}
                for i in insts if i.get("kind") == "service" and i.get("want") == "running"]
    return {"apps": apps, "services": services, "supervisor": client.ping(layout) or None}


def _running_instance(layout: Layout, name: str) -> Optional[Dict[str, Any]]:
    running = [i for i in instances(layout) if i.get("app") == name and i.get("want") == "running"]
    return running[0] if running else None


def app_health(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    name = require_name(args)
    inst = _running_instance(layout, name)
    if not inst:
        return {"name": name, "healthy": False, "alive": False, "reason": "not running"}
    alive = bool(inst.get("pid")) and procs.alive(inst["pid"], inst.get("startTicks"))
    answer = health.probe(inst.get("health") or {}) if alive else None
    reason = _unhealthy_reason(alive, answer)
    return {"name": name, "release": inst.get("release"), "healthy": not reason, "alive": alive,
            "pid": inst.get("pid"), "restarts": inst.get("restarts", 0), "probe": answer, "reason": reason}


def _unhealthy_reason(alive: bool, answer: Optional[Dict[str, Any]]) -> str:
    """Empty when healthy: alive, and its health endpoint (if it has one) answered ok."""
    if not alive:
        return "not running"
    if answer is None or answer["ok"]:
        return ""
    return "health endpoint: %s" % (answer.get("error") or "HTTP %s" % answer.get("status"))


def log_file(layout: Layout, name: str, release: Optional[str]) -> str:
    if release:
        return switch.log_path(layout, name, release)
    inst = _running_instance(layout, name)
    if inst:
        return inst["log"]
    current = AppStore(layout, name).current()
    if current:
        return switch.log_path(layout, name, current)
    service_log = os.path.join(layout.logs, name, "service.log")
    if os.path.exists(service_log):
        return service_log
    raise AgentError("no logs for %s" % name)


def app_logs(layout: Layout, args: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Tail as one JSON answer; with ``follow``, the tail then one JSON line per new log line."""
    name = require_name(args)
    path = log_file(layout, name, args.get("release"))
    lines = logs.tail(path, int(args.get("lines", 100)))
    if not args.get("follow"):
        return {"name": name, "file": path, "lines": lines}
    for line in lines:
        _emit(name, line)
    stop_at = time.monotonic() + float(args["followSeconds"]) if args.get("followSeconds") else None
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGHUP, lambda *_: stopping.append(1))
    logs.follow(path, lambda line: _emit(name, line),
                lambda: bool(stopping) or (stop_at is not None and time.monotonic() >= stop_at))
    return None


def _emit(name: str, line: str) -> None:
    sys.stdout.write(json.dumps({"name": name, "line": line}) + "\n")
    sys.stdout.flush()


def rollback(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    name = require_name(args)
    store = AppStore(layout, name)
    with store.locked():
        target = args.get("to") or store.previous()
        if not target:
            raise AgentError("%s has no earlier release to roll back to" % name)
        opts = {k: v for k, v in args.items() if k in ("hotSwap", "graceSeconds", "healthTimeout")}
        opts["rollback"] = True
        return dict(switch.activate(layout, store, target, opts), rolledBackTo=target)


def uninstall(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    name = require_name(args)
    store = existing_store(layout, name)
    with store.locked():
        removed = []
        if client.ping(layout):
            for inst in client.request(layout, {"op": "list", "app": name})["instances"]:
                client.request(layout, {"op": "remove", "id": inst["id"]})
                removed.append(inst["id"])
        releases = [r["release"] for r in store.releases()]
        shutil.rmtree(os.path.join(layout.logs, name), ignore_errors=True)
        # The app folder goes last: its lock file lives there.
        shutil.rmtree(store.root, ignore_errors=True)
    return {"name": name, "removedReleases": releases, "stoppedInstances": removed}


def inventory(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """What the device holds, so the engine can skip a package or send only changed files."""
    names = [require_name(args)] if args.get("name") else all_apps(layout)
    apps = []
    for name in names:
        store = AppStore(layout, name)
        current = store.current()
        releases = []
        for info in store.releases():
            entry = dict(info, current=info["release"] == current)
            if args.get("files"):
                entry["files"] = store.file_sums(info["release"])
            releases.append(entry)
        apps.append({"name": name, "current": current, "releases": releases})
    answer = {"apps": apps, "uploads": layout.uploads}
    if args.get("hashes"):
        answer["hashes"] = sorted(file_index(layout))
    return answer
