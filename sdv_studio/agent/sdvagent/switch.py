"""Starting a release: health-gated, with hot swap or stop-start plus automatic rollback.

Whatever happens, a release that fails its gate is stopped and the one that ran before keeps
(or goes back to) running; the answer says why, with the tail of the failed release's log.
"""

from __future__ import annotations

import os
import time

from . import client, health, logs
from .errors import AgentError
from .layout import Layout
from .limits import parse_cpu, parse_memory
from .package import PackageInfo
from .progress import report
from .store import DEFAULT_KEEP, AppStore
from .venvs import venv_python

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional

DEFAULT_GRACE = 5.0
DEFAULT_HEALTH_TIMEOUT = 30.0
LOG_TAIL = 40
# Settings remembered per app, so a restart or rollback runs the app the way it was deployed.
# ``sandbox``: ``{"isolate": true}`` runs the app sandboxed (sandbox.py), reaching only its databroker.
SETTINGS = ("broker", "mqtt", "env", "graceSeconds", "healthTimeout", "healthInterval", "memory", "cpu", "keep",
            "logMaxBytes", "sandbox")
# The ones the running process was started with: a change means the release must start again.
PROCESS_SETTINGS = ("broker", "mqtt", "env", "memory", "cpu", "sandbox")


def settings(store: AppStore, args: Dict[str, Any]) -> Dict[str, Any]:
    meta = store.meta()
    saved = dict(meta.get("settings") or {})
    saved.update({k: args[k] for k in SETTINGS if k in args})
    meta["settings"] = saved
    store.save_meta(meta)
    return saved


def _restore_settings(store: AppStore, saved: Dict[str, Any]) -> Dict[str, Any]:
    """A release that failed takes its settings with it: what ran before runs as it did."""
    meta = store.meta()
    meta["settings"] = saved
    store.save_meta(meta)
    return saved


def log_path(layout: Layout, app: str, release: str) -> str:
    return os.path.join(layout.logs, app, release + ".log")


def app_env(info: PackageInfo, conf: Dict[str, Any], port: int) -> Dict[str, str]:
    broker = conf.get("broker") or "127.0.0.1:55555"
    mqtt = conf.get("mqtt") or "127.0.0.1:1883"
    env = {str(k): str(v) for k, v in (info.launch.get("env") or {}).items()}
    env.update({
        "KUKSA_ENDPOINT": broker,
        "SDV_VEHICLEDATABROKER_ADDRESS": "grpc://" + broker,
        "SDV_MQTT_ADDRESS": "mqtt://" + mqtt,
        "VSS_VERSION": info.vss_version,
        "PYTHONUNBUFFERED": "1",  # so the log shows output as it happens
        # Fewer malloc arenas: RLIMIT_AS counts reserved address space, which arenas inflate.
        "MALLOC_ARENA_MAX": "2",
    })
    env.update({str(k): str(v) for k, v in (conf.get("env") or {}).items()})
    env.update({"APP_NAME": info.name, "APP_VERSION": info.version, "SDV_HEALTH_PORT": str(port)})
    return env


def instance_spec(layout: Layout, store: AppStore, release: str, conf: Dict[str, Any]) -> Dict[str, Any]:
    root = store.release_dir(release)
    info = PackageInfo(root)
    limits = info.resource_limits
    port = health.free_port() if info.health_path else 0
    python = venv_python(os.path.join(root, "venv"))
    return {
        "id": "%s@%s@%d" % (store.name, release, int(time.time() * 1000)),
        "app": store.name, "release": release, "version": info.version, "packageId": info.package_id,
        "kind": "app", "argv": [a.replace("{python}", python) for a in info.launch["argv"]],
        "cwd": root, "env": app_env(info, conf, port), "log": log_path(layout, store.name, release),
        "memory": parse_memory(conf.get("memory", limits.get("memory"))),
        "cpu": parse_cpu(conf.get("cpu", limits.get("cpu"))),
        "health": {"port": port, "path": info.health_path}, "restart": False,
        "healthInterval": conf.get("healthInterval"), "logMaxBytes": conf.get("logMaxBytes"),
        "sandbox": _sandbox(conf),
    }


def _sandbox(conf: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if not (conf.get("sandbox") or {}).get("isolate"):
        return None
    from .sandbox import allowed_addresses  # only a sandboxed app needs socket's resolver

    return {"allow": allowed_addresses(str(conf.get("broker") or "127.0.0.1:55555"),
                                       str(conf.get("mqtt") or "127.0.0.1:1883"))}


def app_instances(layout: Layout, name: str) -> List[Dict[str, Any]]:
    reply = client.request(layout, {"op": "list", "app": name})
    return [i for i in reply["instances"] if i.get("kind") == "app"]


def running(layout: Layout, name: str) -> List[Dict[str, Any]]:
    return [i for i in app_instances(layout, name) if i.get("want") == "running"]


def _launch(layout: Layout, spec: Dict[str, Any], conf: Dict[str, Any]) -> Dict[str, Any]:
    """Starts one instance on probation (no restarts) and waits for its gate; None means healthy."""
    inst = client.request(layout, {"op": "spawn", "instance": spec})["instance"]
    if not inst.get("pid"):
        return {"ok": False, "instance": inst, "why": "the process could not be started"}
    report("started", release=spec["release"], pid=inst["pid"])
    ok, why, seen = health.wait_healthy(inst["pid"], inst.get("startTicks"), spec["health"],
                                        float(conf.get("graceSeconds", DEFAULT_GRACE)),
                                        float(conf.get("healthTimeout", DEFAULT_HEALTH_TIMEOUT)))
    if ok:
        inst = client.request(layout, {"op": "update", "id": spec["id"], "restart": True,
                                       "lastHealth": seen})["instance"]
        return {"ok": True, "instance": inst}
    final = next((i for i in app_instances(layout, spec["app"]) if i["id"] == spec["id"]), inst)
    client.request(layout, {"op": "remove", "id": spec["id"]})
    return {"ok": False, "instance": final, "why": why,
            "log": logs.tail(spec["log"], LOG_TAIL)}


def activate(layout: Layout, store: AppStore, release: str, args: Dict[str, Any]) -> Dict[str, Any]:
    """Runs ``release`` as the app's one instance. Call with the app's lock held."""
    before = dict(store.meta().get("settings") or {})
    conf = settings(store, args)
    store.release(release)  # raises if it isn't installed
    client.ensure(layout)
    old = running(layout, store.name)
    result = {"name": store.name, "release": release, "previous": old[0]["release"] if old else None}
    same = all(conf.get(k) == before.get(k) for k in PROCESS_SETTINGS)
    if any(i["release"] == release and i.get("status") == "running" for i in old) and same and not args.get("restart"):
        if conf.get("healthInterval") != old[0].get("healthInterval"):  # no restart needed for that
            client.request(layout, {"op": "update", "id": old[0]["id"], "healthInterval": conf.get("healthInterval")})
        return dict(result, started=False, alreadyRunning=True, instance=_public(old[0]))
    spec = instance_spec(layout, store, release, conf)
    hot = bool(args.get("hotSwap")) and bool(old)
    if hot:
        outcome = _launch(layout, spec, conf)
        if not outcome["ok"]:
            _restore_settings(store, before)
            raise AgentError("%s %s failed its health check: %s; %s keeps running" % (
                store.name, release, outcome["why"], old[0]["release"]), _failure(result, outcome, "hot-swap"))
    else:
        for inst in old:
            client.request(layout, {"op": "stop", "id": inst["id"]})
        try:
            outcome = _launch(layout, spec, conf)
        except (AgentError, OSError, ValueError) as exc:  # the old release is stopped: it must come back
            outcome = {"ok": False, "instance": None, "why": str(exc)}
        if not outcome["ok"]:
            _recover(layout, store, old, args, result, outcome, before)
    for inst in old:
        client.request(layout, {"op": "remove", "id": inst["id"]})
    _forget_stopped(layout, store.name, keep_id=spec["id"])
    store.set_current(release)
    removed = store.prune(int(conf.get("keep") or DEFAULT_KEEP), [release])
    return dict(result, started=True, mode="hot-swap" if hot else "stop-start",
                instance=_public(outcome["instance"]), pruned=removed)


def _recover(layout: Layout, store: AppStore, old: List[Dict[str, Any]], args: Dict[str, Any],
             result: Dict[str, Any], outcome: Dict[str, Any], before: Dict[str, Any]) -> None:
    """The new release failed after the old one was stopped: bring the old one back, with the
    settings it ran with, then raise."""
    details = _failure(result, outcome, "stop-start")
    message = "%s %s failed: %s" % (store.name, result["release"], outcome["why"])
    if not old or args.get("rollback") is False:
        for inst in old:
            client.request(layout, {"op": "remove", "id": inst["id"]})
        raise AgentError(message + ("; nothing was running before" if not old else "; not rolled back"),
                         dict(details, rolledBack=False))
    back = old[0]["release"]
    conf = _restore_settings(store, before)
    spec = instance_spec(layout, store, back, conf)
    restored = _launch(layout, spec, conf)
    for inst in old:
        client.request(layout, {"op": "remove", "id": inst["id"]})
    details.update(rolledBack=restored["ok"], rolledBackTo=back)
    if not restored["ok"]:
        details["rollbackError"] = restored["why"]
    raise AgentError(message + ("; rolled back to %s" % back if restored["ok"] else
                                "; rollback to %s failed too: %s" % (back, restored["why"])), details)


def _failure(result: Dict[str, Any], outcome: Dict[str, Any], mode: str) -> Dict[str, Any]:
    return dict(result, mode=mode, reason=outcome["why"], logTail=outcome.get("log", []),
                exit=(outcome.get("instance") or {}).get("lastExit"))


def _forget_stopped(layout: Layout, name: str, keep_id: str) -> None:
    for inst in app_instances(layout, name):
        if inst["id"] != keep_id and inst.get("want") != "running":
            client.request(layout, {"op": "remove", "id": inst["id"]})


def stop_app(layout: Layout, name: str) -> List[str]:
    stopped = []
    for inst in running(layout, name):
        client.request(layout, {"op": "stop", "id": inst["id"]})
        stopped.append(inst["release"])
    return stopped


def _public(inst: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if not inst:
        return {}
    keys = ("id", "release", "version", "pid", "startedAt", "restarts", "status", "limits", "health", "lastHealth",
            "lastExit")
    return {k: inst.get(k) for k in keys}
