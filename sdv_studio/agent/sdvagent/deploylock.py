"""One deployment at a time on a device, whichever workstation starts it.

The session that prepares a deployment takes an flock on ``run/deploy.lock`` and keeps it until
the session ends: the kernel drops it when the process ends however it ends (workstation gone,
connection cut, process killed), so a lock is never left behind. The file names the holder, so a
second deployment is told who it waits for.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os

from .errors import AgentError
from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import IO, Any, Dict, Optional

# This process's lock, held until it exits (a session prepares one deployment, maybe more in turn).
_held: Optional[IO[str]] = None
_HOLDER_KEYS = ("host", "pid", "deploymentId", "user")


def lock_path(layout: Layout) -> str:
    return os.path.join(layout.run, "deploy.lock")


def acquire(layout: Layout, holder: Dict[str, Any]) -> Dict[str, Any]:
    """Hold the device's deployment lock for this process, naming ``holder`` (the workstation's
    host, pid and deploymentId); AgentError with ``busy`` (who holds it) when another process does."""
    global _held
    me = {k: holder[k] for k in _HOLDER_KEYS if isinstance(holder.get(k), (str, int))}
    me.update(agentPid=os.getpid(), since=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    client = os.environ.get("SSH_CONNECTION", "").split()
    if client:
        me["from"] = client[0]
    if _held is None:
        layout.ensure()
        lock = open(lock_path(layout), "a+", encoding="utf-8")  # noqa: SIM115 - held open until the process ends
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            other = _parse(lock.read())
            lock.close()
            raise AgentError("the device is busy: %s" % describe(other), {"busy": other}) from None
        _held = lock
    _held.seek(0)
    _held.truncate()
    _held.write(json.dumps(me, sort_keys=True))
    _held.flush()
    return me


def _parse(text: str) -> Dict[str, Any]:
    try:
        holder = json.loads(text)
    except ValueError:
        holder = None
    return holder if isinstance(holder, dict) else {}


def describe(holder: Dict[str, Any]) -> str:
    """``deploy_… from workstation H (pid P, 198.18.0.1) since T``: who holds the lock."""
    if not holder:  # taken a moment ago, the name not written yet
        return "another deployment is starting"
    where = ["pid %s" % holder["pid"]] if holder.get("pid") else []
    where += [str(holder["from"])] if holder.get("from") else []
    return "%s from workstation %s%s since %s" % (
        holder.get("deploymentId") or "a deployment", holder.get("host") or "?",
        " (%s)" % ", ".join(where) if where else "", holder.get("since") or "?")
