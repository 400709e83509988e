"""The ``signals`` command: the VSS signals an app uses, as its package lists them (manifest.json
``signals``, found while packaging), and the databroker it talks to: what a monitor subscribes to."""

from __future__ import annotations

from . import client
from .errors import AgentError, BadRequest
from .layout import Layout, valid_name
from .package import PackageInfo
from .store import AppStore

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Optional

DEFAULT_BROKER = "127.0.0.1:55555"
MAX_SIGNALS = 500


def signals(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    name = args.get("name", "")
    if not valid_name(name):
        raise BadRequest("name: must be lowercase letters, digits and hyphens")
    store = AppStore(layout, name)
    if not store.exists():
        raise AgentError("no app named %s" % name)
    inst = _running(layout, name)
    release = inst["release"] if inst else store.current()
    if not release:
        raise AgentError("%s has no current release" % name)
    listed = PackageInfo(store.release_dir(release)).manifest.get("signals")
    paths = [p for p in listed if isinstance(p, str) and p.startswith("Vehicle.")] if isinstance(listed, list) else []
    env = (inst or {}).get("env") or {}
    broker = env.get("KUKSA_ENDPOINT") or (store.meta().get("settings") or {}).get("broker") or DEFAULT_BROKER
    return {"name": name, "release": release, "running": inst is not None, "broker": broker,
            "signals": paths[:MAX_SIGNALS]}


def _running(layout: Layout, name: str) -> Optional[Dict[str, Any]]:
    if not client.ping(layout):
        return None
    wanted = [i for i in client.request(layout, {"op": "list", "app": name})["instances"]
              if i.get("kind") == "app" and i.get("want") == "running"]
    wanted.sort(key=lambda i: not i.get("restart", True))  # past its health gate first
    return wanted[0] if wanted else None
