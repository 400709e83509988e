"""Talking to the supervisor, starting it first when it isn't running.

Started as a systemd unit where systemd runs and we may use it (so it also comes back after a
reboot), otherwise detached by a double fork and setsid so it outlives the SSH session.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from .errors import AgentError, BadRequest
from .layout import Layout
from .sysinfo import systemd_manager_usable

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict

START_TIMEOUT = 15.0
UNIT = "sdv-agent.service"


def agent_script() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "entrypoint.py")


def request(layout: Layout, payload: Dict[str, Any], timeout: float = 60.0) -> Dict[str, Any]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(layout.socket)
        sock.sendall(json.dumps(payload).encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        sock.close()
    reply = json.loads(b"".join(chunks).decode("utf-8"))
    if not reply.get("ok"):
        raise AgentError("supervisor: %s" % reply.get("error"))
    return reply


def ping(layout: Layout) -> Dict[str, Any]:
    try:
        return request(layout, {"op": "ping"}, timeout=5)
    except (OSError, ValueError, AgentError):
        return {}


def ensure(layout: Layout) -> Dict[str, Any]:
    """The supervisor's ping answer, starting it if needed; how it was started is in ``startedBy``."""
    answer = ping(layout)
    if answer:
        return answer
    layout.ensure()
    how = "systemd" if _start_systemd(layout) else "detached"
    if how == "detached":
        _start_detached(layout)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        answer = ping(layout)
        if answer:
            answer["startedBy"] = how
            return answer
        time.sleep(0.05)
    raise AgentError("the supervisor did not start; see %s" % layout.supervisor_log)


def _start_detached(layout: Layout) -> None:
    argv = [sys.executable, agent_script(), "supervise"]
    env = dict(os.environ, SDV_AGENT_HOME=layout.base)
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return
    try:  # first child: new session, then fork again so the daemon can never regain a terminal
        os.setsid()
        if os.fork():
            os._exit(0)
        os.chdir("/")
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(layout.supervisor_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 256)
        os.execve(argv[0], argv, env)
    finally:
        os._exit(127)


def unit_text(layout: Layout) -> str:
    return (
        "[Unit]\nDescription=SDV Studio device agent supervisor\n\n"
        "[Service]\nExecStart=%s %s supervise\nEnvironment=SDV_AGENT_HOME=%s\n"
        # Apps run in their own sessions: stopping the supervisor must not take them down.
        "KillMode=process\nRestart=on-failure\nRestartSec=2\n\n"
        "[Install]\nWantedBy=%s\n" % (sys.executable, agent_script(), layout.base,
                                       "multi-user.target" if os.getuid() == 0 else "default.target")
    )


def unit_path() -> str:
    if os.getuid() == 0:
        return "/etc/systemd/system/" + UNIT
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config, "systemd", "user", UNIT)


def _start_systemd(layout: Layout) -> bool:
    if os.environ.get("SDV_AGENT_NO_SYSTEMD") or not systemd_manager_usable():
        return False
    path = unit_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(unit_text(layout))
    ctl = ["systemctl"] if os.getuid() == 0 else ["systemctl", "--user"]
    try:
        for args in (["daemon-reload"], ["enable", UNIT], ["restart", UNIT]):
            if subprocess.run(ctl + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode != 0:
                return False
    except (OSError, subprocess.TimeoutExpired):
        return False
    return True


def control(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """The ``supervisor`` command: start, stop or ask after the supervisor."""
    action = args.get("action", "status")
    if action == "start":
        return {"supervisor": ensure(layout)}
    if action == "stop":
        if ping(layout):
            request(layout, {"op": "shutdown", "stopAll": bool(args.get("stopApps"))})
        return {"supervisor": None}
    if action == "status":
        return {"supervisor": ping(layout) or None}
    raise BadRequest("supervisor: action must be start, stop or status")
