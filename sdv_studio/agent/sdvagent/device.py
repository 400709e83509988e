"""Commands about the device itself: info, prepare (info plus what a deployment needs), metrics."""

from __future__ import annotations

import os
import shutil
import sys
import time

from . import AGENT_VERSION, client, deploylock, limits, services, sysinfo
from .errors import AgentError, BadRequest
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
    otherwise the hashes it holds and an empty upload folder, and the app's current release (its
    version and whether it takes updates): one call before anything is sent.

    It takes the device's deployment lock for this session first (``holder``: who deploys), then
    clears what deployments cut short left: none can be running now."""
    from .package import PackageInfo  # only this command needs the store and packages (and hashlib)
    from .store import AppStore, discard_leftovers, file_index

    name, package_id = args.get("name", ""), str(args.get("packageId", ""))
    if not valid_name(name):
        raise BadRequest("name: must be lowercase letters, digits and hyphens")
    if not (package_id.startswith("pkg_") and len(package_id) == 20 and set(package_id[4:]) <= _PACKAGE_ID_CHARS):
        raise BadRequest("packageId: must be pkg_ and 16 hex digits")
    holder = args.get("holder")
    deploylock.acquire(layout, holder if isinstance(holder, dict) else {})
    discard_leftovers(layout)
    _prune_uploads(layout.uploads)
    answer = info(layout, args)
    store = AppStore(layout, name)
    held = store.find_package(package_id) if store.exists() else None
    answer["installed"] = held["release"] if held else None
    current = store.current() if store.exists() else None
    if current:
        try:
            held_info = PackageInfo(store.release_dir(current))
        except AgentError:  # a damaged release: nothing it says can pin it
            held_info = None
        if held_info is not None:
            answer["current"] = {"release": current, "version": held_info.version,
                                 "otaEnabled": held_info.ota_enabled}
    if not held:
        answer["hashes"] = sorted(file_index(layout))
        answer["upload"] = os.path.join(layout.uploads, package_id)
    return answer


STALE_UPLOAD_SECONDS = 24 * 3600


def _prune_uploads(folder: str) -> None:
    """With the deployment lock held: every package upload (``pkg_…``) and every file cut short
    (``.part``) is a leftover; anything else (the broker's and the advertiser's wheels, kept for the
    next deployment) once a day old."""
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
        is_folder = os.path.isdir(path) and not os.path.islink(path)
        if is_folder and (old or name.startswith("pkg_")):
            shutil.rmtree(path, ignore_errors=True)
        elif is_folder:
            _remove_parts(path)
        elif old or name.endswith(".part"):
            os.unlink(path)


def _remove_parts(folder: str) -> None:
    for name in os.listdir(folder):
        if name.endswith(".part"):
            os.unlink(os.path.join(folder, name))


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


def metrics(layout: Layout, _args: Dict[str, Any]) -> Dict[str, Any]:
    from . import apps
    from . import metrics as collector

    return collector.collect(layout.base if os.path.isdir(layout.base) else "/", apps.instances(layout))
