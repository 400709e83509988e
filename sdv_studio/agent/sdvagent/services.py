"""Supervised services that are not packaged apps: the fallback databroker, the mDNS advertiser."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import time

from . import client, health, logs, sysinfo, venvs
from .errors import AgentError, BadRequest
from .layout import Layout, valid_name
from .limits import parse_cpu, parse_memory

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional

MDNS = "sdv-mdns"
MDNS_DELAY = 5.0  # seconds before the advertiser starts (see mdns)
RELAY_DIR = "relay"  # under run/: the sockets (and relay.py) mounted into sandboxed containers


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
    """``{name, argv, venv?, env?, cwd?, health?: {tcpPort} | {port, path}, graceSeconds?, delay?}``.

    With ``delay`` (seconds) the supervisor starts it that much later and nothing is waited for."""
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
    delay = float(args.get("delay") or 0)
    inst = client.request(layout, {"op": "spawn", "instance": dict(spec, delay=delay)})["instance"]
    if delay > 0:
        return {"name": name, "pid": None, "startsIn": delay, "limits": inst.get("limits")}
    ok, why, _seen = health.wait_healthy(inst.get("pid") or 0, inst.get("startTicks"), check,
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


def status(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Whether the service runs, and with what argv (e.g. which key the databroker verifies tokens with)."""
    name = args.get("name", "")
    running = [i for i in _instances(layout, name) if i.get("status") == "running"] if client.ping(layout) else []
    return {"name": name, "running": bool(running), "argv": running[0]["argv"] if running else None}


def service(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    action = args.get("action", "start")
    if action == "start":
        return start(layout, args)
    if action == "stop":
        return stop(layout, args)
    if action == "status":
        return status(layout, args)
    raise BadRequest("service: action must be start, stop or status")


def advertising(layout: Layout) -> bool:
    """The mDNS advertiser runs; ask only while the supervisor is up (this does not start it)."""
    return any(i.get("status") in ("running", "scheduled") for i in _instances(layout, MDNS))


def mdns(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Best effort: avahi-publish when installed, else python-zeroconf from the wheels in ``wheels``
    (unpacked by the advertiser, no pip); else says why not. Run at low priority, not waited for,
    and started by the supervisor only after ``delay`` seconds: its start-up (~0.1 s of CPU, more on
    a small board) must not compete with an app that is starting and passing its health gate."""
    if args.get("action", "start") == "stop":
        return dict(stop(layout, {"name": MDNS}), advertising=False)
    props = sysinfo.properties()
    props.update({str(k): str(v) for k, v in (args.get("properties") or {}).items()})
    name = str(args.get("instanceName") or socket.gethostname())
    port = int(args.get("port", 22))
    address = _ipv4(args.get("address"))  # announce only there: the network the workstation is on
    wheels = str(args.get("wheels") or "")
    has_zeroconf = os.path.isdir(wheels) and any(n.startswith("zeroconf-") for n in os.listdir(wheels))
    # avahi-publish cannot choose an interface: with an address to keep to, zeroconf goes first.
    if shutil.which("avahi-publish") and not args.get("preferZeroconf") and not (address and has_zeroconf):
        argv = ["avahi-publish", "-s", name, "_sdv-agent._tcp", str(port)]
        argv += ["%s=%s" % kv for kv in sorted(props.items())]
        cwd = layout.base
        via, on = "avahi", "every interface avahi serves"
    else:
        names = sorted(n for n in os.listdir(wheels) if n.endswith(".whl")) if has_zeroconf else []
        if not names:
            return {"advertising": False, "properties": props,
                    "reason": "neither avahi-publish nor python-zeroconf's wheels (give wheels) are present"}
        # Named after the wheels, so new ones are never mixed with old.
        site = os.path.join(layout.venvs, "mdns-" + hashlib.sha256("\n".join(names).encode()).hexdigest()[:10])
        conf = {"name": name, "port": port, "properties": props, "wheels": wheels, "site": site,
                "interfaces": [address] if address else []}
        # As a module of the agent's package (run from the agent's folder), to share its wheel installer.
        argv = [sys.executable, "-m", "sdvagent.mdns_zeroconf", json.dumps(conf)]
        cwd = os.path.dirname(client.agent_script())
        via, on = "zeroconf", address or "every interface"
    if shutil.which("nice"):
        argv = ["nice", "-n", "10", *argv]
    started = start(layout, {"name": MDNS, "argv": argv, "cwd": cwd, "graceSeconds": 0,
                             "delay": float(args.get("delay", MDNS_DELAY))})
    return dict(started, advertising=True, via=via, on=on, service="_sdv-agent._tcp", properties=props)


def _ipv4(value: Any) -> Optional[str]:
    """An IPv4 address the advertiser can bind to, else None (IPv6 and names are announced everywhere)."""
    try:
        return socket.inet_ntoa(socket.inet_aton(str(value))) if value and str(value).count(".") == 3 else None
    except OSError:
        return None


def relay(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """``{targets: ["host:port", …]}``: for sandboxed containers, a relay service per target that
    joins connections on a unix socket to it (relay.py), kept running if already there. Answers the
    folder to mount, the script the container runs, and each target's socket (a name in the folder)."""
    from . import relay as relay_script

    folder = os.path.join(layout.run, RELAY_DIR)
    layout.ensure()
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o711)  # a container's user (another uid) reaches what is in it by name only
    script = os.path.join(folder, "relay.py")
    code = _read(relay_script.__file__)
    if _read(script) != code:
        with open(script + ".tmp", "wb") as f:
            f.write(code)
        os.chmod(script + ".tmp", 0o644)  # read by the container's user
        os.replace(script + ".tmp", script)
    sockets = {}
    for target in args.get("targets") or []:
        host, _, port = str(target).rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BadRequest("relay: targets must be host:port, got %r" % (target,))
        name = "relay-" + hashlib.sha256(str(target).encode()).hexdigest()[:10]
        sockets[target] = name + ".sock"
        # Named relative to the folder (the service's cwd): a deep home's full path can pass the
        # 108 bytes a unix socket's path may have.
        argv = [sys.executable, script, "outside", "%s.sock=%s" % (name, target)]
        if status(layout, {"name": name}).get("argv") != argv:
            start(layout, {"name": name, "argv": argv, "cwd": folder, "graceSeconds": 0.3})
    return {"folder": folder, "script": "relay.py", "sockets": sockets}


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""
