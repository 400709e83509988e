"""Every agent command: a function from the JSON arguments to the JSON answer."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Dict, Optional

from . import AGENT_VERSION, apps, client, limits, metrics, services, switch, sysinfo
from .errors import AgentError, BadRequest
from .install import install
from .layout import Layout
from .store import AppStore
from .supervisor import Supervisor

Handler = Callable[[Layout, Dict[str, Any]], Optional[Dict[str, Any]]]


def cmd_info(layout: Layout, _args: Dict[str, Any]) -> Dict[str, Any]:
    scope = limits.plan("probe", 1, 1.0).report["enforcedBy"]
    return {"agentVersion": AGENT_VERSION, "properties": sysinfo.properties(), "python": sys.executable,
            "home": layout.base, "uploads": layout.uploads, "limitsVia": scope,
            "systemd": sysinfo.systemd_running(), "supervisor": client.ping(layout) or None}


def cmd_install(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    return install(layout, args)


def _installed_release(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """For deploy/start: the release named by ``release`` or ``packageId`` (of app ``name``)."""
    store = AppStore(layout, apps.require_name(args))
    if args.get("release"):
        return store.release(args["release"])
    info = store.find_package(args["packageId"])
    if not info:
        raise AgentError("%s has no release with package %s" % (store.name, args["packageId"]))
    return info


def cmd_deploy(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Install (unless already there) then start with the health gate, hot swap and rollback."""
    if args.get("package") or args.get("dir"):
        installed = install(layout, args)
    elif args.get("release") or args.get("packageId"):
        installed = dict(_installed_release(layout, args), alreadyInstalled=True)
    else:
        raise BadRequest("deploy: give package, dir, or name with release or packageId")
    store = AppStore(layout, installed["name"])
    with store.locked():
        started = switch.activate(layout, store, installed["release"], args)
    return dict(started, version=installed["version"], packageId=installed["packageId"],
                alreadyInstalled=installed["alreadyInstalled"],
                **{k: installed[k] for k in ("sent", "reused") if k in installed})


def cmd_start(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    store = AppStore(layout, apps.require_name(args))
    with store.locked():
        release = _installed_release(layout, args)["release"] if (
            args.get("release") or args.get("packageId")) else store.current()
        if not release:
            raise AgentError("%s has no current release; deploy it first" % store.name)
        return switch.activate(layout, store, release, args)


def cmd_stop(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    name = apps.require_name(args)
    store = AppStore(layout, name)
    if not store.exists():
        raise AgentError("no app named %s" % name)
    with store.locked():
        stopped = switch.stop_app(layout, name) if client.ping(layout) else []
    return {"name": name, "stopped": stopped}


def cmd_metrics(layout: Layout, _args: Dict[str, Any]) -> Dict[str, Any]:
    return metrics.collect(layout.base if os.path.isdir(layout.base) else "/", apps.instances(layout))


def cmd_service(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    action = args.get("action", "start")
    if action == "start":
        return services.start(layout, args)
    if action == "stop":
        return services.stop(layout, args)
    raise BadRequest("service: action must be start or stop")


def cmd_supervisor(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    action = args.get("action", "status")
    if action == "start":
        return {"supervisor": client.ensure(layout)}
    if action == "stop":
        if client.ping(layout):
            client.request(layout, {"op": "shutdown", "stopAll": bool(args.get("stopApps"))})
        return {"supervisor": None}
    if action == "status":
        return {"supervisor": client.ping(layout) or None}
    raise BadRequest("supervisor: action must be start, stop or status")


def cmd_supervise(layout: Layout, _args: Dict[str, Any]) -> None:
    sys.exit(Supervisor(layout).serve())


COMMANDS = {
    "info": cmd_info,
    "install": cmd_install,
    "deploy": cmd_deploy,
    "start": cmd_start,
    "stop": cmd_stop,
    "status": apps.status,
    "health": apps.app_health,
    "logs": apps.app_logs,
    "rollback": apps.rollback,
    "uninstall": apps.uninstall,
    "inventory": apps.inventory,
    "metrics": cmd_metrics,
    "venv": services.venv,
    "service": cmd_service,
    "mdns": services.mdns,
    "supervisor": cmd_supervisor,
    "supervise": cmd_supervise,
}  # type: Dict[str, Handler]
