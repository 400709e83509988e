"""Commands about the device itself: info, prepare (info plus what a deployment needs), metrics."""

from __future__ import annotations

import os
import shutil
import sys
import time

from . import AGENT_VERSION, client, limits, services, sysinfo
from .errors import BadRequest
from .layout import Layout, valid_name

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional

_PACKAGE_ID_CHARS = frozenset("0123456789abcdef")


def info(layout: Layout, _args: Dict[str, Any]) -> Dict[str, Any]:
    scope = limits.plan("probe", 1, 1.0).report["enforcedBy"]
    supervisor = client.ping(layout) or None
    return {"agentVersion": AGENT_VERSION, "properties": sysinfo.properties(), "python": sys.executable,
            "home": layout.base, "uploads": layout.uploads, "limitsVia": scope,
            "systemd": sysinfo.systemd_running(), "supervisor": supervisor,
            "listening": listening_ports(), "advertising": bool(supervisor) and services.advertising(layout),
            "avahi": shutil.which("avahi-publish") is not None, "sshAddress": ssh_address()}


def ssh_address() -> Optional[str]:
    """The device's own address on the connection the workstation came in on (OpenSSH's
    SSH_CONNECTION: client address, client port, server address, server port)."""
    parts = os.environ.get("SSH_CONNECTION", "").split()
    return parts[2] if len(parts) == 4 else None


def prepare(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """``info`` plus, for the package about to be deployed, whether the device already holds it and
    otherwise the hashes it holds and an empty upload folder: one call before anything is sent."""
    from .store import AppStore, file_index  # only this command needs the store (and hashlib)

    name, package_id = args.get("name", ""), str(args.get("packageId", ""))
    if not valid_name(name):
        raise BadRequest("name: must be lowercase letters, digits and hyphens")
    if not (package_id.startswith("pkg_") and len(package_id) == 20 and set(package_id[4:]) <= _PACKAGE_ID_CHARS):
        raise BadRequest("packageId: must be pkg_ and 16 hex digits")
    answer = info(layout, args)
    store = AppStore(layout, name)
    held = store.find_package(package_id) if store.exists() else None
    answer["installed"] = held["release"] if held else None
    if not held:
        answer["hashes"] = sorted(file_index(layout))
        upload = os.path.join(layout.uploads, package_id)
        shutil.rmtree(upload, ignore_errors=True)  # what an interrupted transfer left
        _prune_uploads(layout.uploads)
        answer["upload"] = upload
    return answer


STALE_UPLOAD_SECONDS = 24 * 3600


def _prune_uploads(folder: str) -> None:
    """Uploads a killed transfer left a day ago or more: no transfer runs that long."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            old = time.time() - os.lstat(path).st_mtime > STALE_UPLOAD_SECONDS
        except OSError:
            continue
        if old and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif old:
            os.unlink(path)


def listening_ports() -> List[int]:
    """TCP ports something listens on (state 0A in /proc/net/tcp{,6}), e.g. a databroker's 55555."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A":
                        ports.add(int(fields[1].rpartition(":")[2], 16))
        except OSError:
            continue
    return sorted(ports)


def metrics(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """The supervisor's latest sample with each app's figures, and with ``since`` (a wall time) the
    samples after it; the device alone when nothing is meant to run. Plus disk and load."""
    from . import metrics as readers

    since = args.get("since")
    if since is not None and (isinstance(since, bool) or not isinstance(since, (int, float))):
        raise BadRequest("since: must be a time in seconds since the epoch")
    if client.supervisor_wanted(layout):
        answer = client.request(layout, {"op": "metrics", "since": since})
        answer.pop("ok", None)
    else:
        answer = readers.device_only()
    answer["cpu"].update(count=os.cpu_count(), load=[round(v, 2) for v in os.getloadavg()])
    answer["disk"] = readers.disk(layout.base if os.path.isdir(layout.base) else "/")
    return answer
