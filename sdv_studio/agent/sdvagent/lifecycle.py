"""Commands that start and stop apps: deploy (install, then start), start, stop."""

from __future__ import annotations

from . import boothook, client, services, switch
from .apps import existing_store, require_name
from .errors import AgentError, BadRequest
from .install import install
from .layout import Layout
from .progress import report
from .staged_record import drop_record
from .store import AppStore

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict


def _installed_release(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """For deploy/start: the release named by ``release`` or ``packageId`` (of app ``name``)."""
    store = AppStore(layout, require_name(args))
    if args.get("release"):
        return store.release(args["release"])
    info = store.find_package(args["packageId"])
    if not info:
        raise AgentError("%s has no release with package %s" % (store.name, args["packageId"]))
    return info


def deploy(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Install (unless already there) then start with the health gate, hot swap and rollback."""
    if args.get("package") or args.get("dir"):
        installed = install(layout, args)
    elif args.get("release") or args.get("packageId"):
        installed = dict(_installed_release(layout, args), alreadyInstalled=True)
        report("installed", release=installed["release"], alreadyInstalled=True)
    else:
        raise BadRequest("deploy: give package, dir, or name with release or packageId")
    store = AppStore(layout, installed["name"])
    with store.locked():
        started = switch.activate(layout, store, installed["release"], args)
        superseded = drop_record(store)  # a deployment now replaces what was staged for later
    _advertise(layout, args, started)
    _boot_hook(layout, args, started)
    if superseded:
        started["unstaged"] = superseded["release"]
    return dict(started, version=installed["version"], packageId=installed["packageId"],
                alreadyInstalled=installed["alreadyInstalled"],
                **{k: installed[k] for k in ("sent", "reused") if k in installed})


def start(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    store = AppStore(layout, require_name(args))
    with store.locked():
        release = _installed_release(layout, args)["release"] if (
            args.get("release") or args.get("packageId")) else store.current()
        if not release:
            raise AgentError("%s has no current release; deploy it first" % store.name)
        started = switch.activate(layout, store, release, args)
    _advertise(layout, args, started)
    _boot_hook(layout, args, started)
    return started


def _boot_hook(layout: Layout, args: Dict[str, Any], answer: Dict[str, Any]) -> None:
    """With ``bootHook``, make sure the supervisor (so the app) comes back after a reboot; how goes
    into the answer as ``bootHook``."""
    if args.get("bootHook"):
        answer["bootHook"] = boothook.ensure(layout)



def _advertise(layout: Layout, args: Dict[str, Any], answer: Dict[str, Any]) -> None:
    """With ``advertise`` (mdns's arguments), start the mDNS advertiser once the app passed its
    gate: best effort, its outcome goes into the answer as ``advertised``."""
    if not args.get("advertise"):
        return
    try:
        answer["advertised"] = services.mdns(layout, dict(args["advertise"], action="start"))
    except AgentError as exc:
        answer["advertised"] = {"advertising": False, "reason": str(exc)}


def stop(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    name = require_name(args)
    store = existing_store(layout, name)
    with store.locked():
        stopped = switch.stop_app(layout, name) if client.ping(layout) else []
    return {"name": name, "stopped": stopped}
