"""Supervised services that are not packaged apps: the fallback databroker, the mDNS advertiser."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from typing import Any, Dict, List

from . import client, health, logs, sysinfo, venvs
from .errors import AgentError, BadRequest
from .layout import Layout, valid_name
from .limits import parse_cpu, parse_memory

MDNS = "sdv-mdns"


def venv(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Creates (or reuses) ``venvs/<name>`` from local wheels, e.g. for the broker or zeroconf."""
    name = args.get("name", "")
    if not valid_name(name):
        raise BadRequest("venv: name must be lowercase letters, digits and hyphens")
    layout.ensure()
    path = os.path.join(layout.venvs, name)
    python = venvs.venv_python(path)
    if args.get("recreate"):
        shutil.rmtree(path, ignore_errors=True)
    if not os.path.exists(python):
        try:
            venvs.create(path, list(args.get("findLinks") or []), list(args.get("requirements") or []))
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        created = True
    else:
        created = False
    return {"name": name, "path": path, "python": python, "created": created}


def _instances(layout: Layout, name: str) -> List[Dict[str, Any]]:
    reply = client.request(layout, {"op": "list", "app": name})
    return [i for i in reply["instances"] if i.get("kind") == "service"]


def start(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """``{name, argv, venv?, env?, cwd?, health?: {tcpPort} | {port, path}, graceSeconds?}``."""
    name = args.get("name", "")
    argv = args.get("argv")
    if not valid_name(name) or not isinstance(argv, list) or not argv:
        raise BadRequest("service: needs a name (lowercase, digits, hyphens) and a non-empty argv")
    python = venvs.venv_python(os.path.join(layout.venvs, args["venv"])) if args.get("venv") else None
    if any("{python}" in a for a in argv) and not python:
        raise BadRequest("service: argv uses {python} but no venv was given")
    client.ensure(layout)
    for old in _instances(layout, name):
        client.request(layout, {"op": "remove", "id": old["id"]})
    check = dict(args.get("health") or {})
    spec = {
        "id": "%s@service@%d" % (name, int(time.time() * 1000)), "app": name, "release": "service",
        "version": str(args.get("version") or ""), "kind": "service",
        "argv": [a.replace("{python}", python or "") for a in argv], "cwd": args.get("cwd") or layout.base,
        "env": {str(k): str(v) for k, v in (args.get("env") or {}).items()},
        "log": os.path.join(layout.logs, name, "service.log"), "restart": True, "health": check,
        "memory": parse_memory(args.get("memory")), "cpu": parse_cpu(args.get("cpu")),
    }
    inst = client.request(layout, {"op": "spawn", "instance": spec})["instance"]
    ok, why = health.wait_healthy(inst.get("pid") or 0, inst.get("startTicks"), check,
                                  float(args.get("graceSeconds", 1.0)), float(args.get("healthTimeout", 30.0)))
    if not ok:
        client.request(layout, {"op": "remove", "id": spec["id"]})
        raise AgentError("service %s did not come up: %s" % (name, why),
                         {"logTail": logs.tail(spec["log"], 40)})
    return {"name": name, "pid": inst["pid"], "startedAt": inst.get("startedAt"), "limits": inst.get("limits")}


def stop(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    name = args.get("name", "")
    stopped = []
    if client.ping(layout):
        for inst in _instances(layout, name):
            client.request(layout, {"op": "remove", "id": inst["id"]})
            stopped.append(inst["id"])
    return {"name": name, "stopped": bool(stopped)}


def service(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    action = args.get("action", "start")
    if action == "start":
        return start(layout, args)
    if action == "stop":
        return stop(layout, args)
    raise BadRequest("service: action must be start or stop")


def mdns(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Best effort: avahi-publish when installed, else python-zeroconf from a venv; else says why not."""
    if args.get("action", "start") == "stop":
        return dict(stop(layout, {"name": MDNS}), advertising=False)
    props = sysinfo.properties()
    props.update({str(k): str(v) for k, v in (args.get("properties") or {}).items()})
    name = str(args.get("instanceName") or socket.gethostname())
    port = int(args.get("port", 22))
    zeroconf_venv = str(args.get("venv") or "zeroconf")
    python = venvs.venv_python(os.path.join(layout.venvs, zeroconf_venv))
    if shutil.which("avahi-publish") and not args.get("preferZeroconf"):
        argv = ["avahi-publish", "-s", name, "_sdv-agent._tcp", str(port)]
        argv += ["%s=%s" % kv for kv in sorted(props.items())]
        via = "avahi"
    elif os.path.exists(python):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mdns_zeroconf.py")
        argv = [python, script, json.dumps({"name": name, "port": port, "properties": props})]
        via = "zeroconf"
    else:
        return {"advertising": False, "reason": "neither avahi-publish nor a zeroconf venv (venvs/%s) is present"
                % zeroconf_venv, "properties": props}
    started = start(layout, {"name": MDNS, "argv": argv, "graceSeconds": 1.0})
    return dict(started, advertising=True, via=via, service="_sdv-agent._tcp", properties=props)
