"""Health: the gate a new process must pass (up through a grace period, its health endpoint
answering 200), and the verdict ``status`` shows from the app's own answer (the guide's
HealthChecker fields: kuksa_connection, app_running, last_check, reason)."""

from __future__ import annotations

import datetime
import json
import socket
import time

from . import procs

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Optional, Tuple

POLL = 0.2
_MAX_REPLY = 64 * 1024
# An app's /health asks its databroker (for up to 2 s, see templates/sdv_launcher.py) before it answers.
PROBE_TIMEOUT = 5.0


def free_port() -> int:
    # Ask the kernel for a free port on loopback; the app binds it a moment later.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_http(port: int, path: str, timeout: float = PROBE_TIMEOUT) -> Dict[str, Any]:
    """GET ``path`` on loopback over HTTP/1.0. A plain socket, not http.client: its imports (email,
    urllib) cost more CPU than a whole agent call, and an app's health answer is one short reply."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, port)).encode("latin-1"))
            reply = b""
            while len(reply) < _MAX_REPLY:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except (OSError, UnicodeError) as exc:
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/") or not status_line[1].isdigit():
        return {"ok": False, "error": "not an HTTP answer: %r" % reply[:60]}
    status = int(status_line[1])
    return {"ok": status == 200, "status": status, "body": body[:4096].decode("utf-8", "replace")}


def probe_tcp(port: int, timeout: float = 1.0) -> Dict[str, Any]:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return {"ok": True}
    except OSError as exc:
        return {"ok": False, "error": str(exc)}


def probe(check: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """``check`` is ``{"port", "path"}`` (HTTP) or ``{"tcpPort"}``; None when there is nothing to ask."""
    if check.get("path") and check.get("port"):
        return probe_http(int(check["port"]), check["path"])
    if check.get("tcpPort"):
        return probe_tcp(int(check["tcpPort"]))
    return None


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdict(answer: Optional[Dict[str, Any]], alive: bool) -> Dict[str, Any]:
    """What a probe's ``answer`` (None: the app has no endpoint) says of a process that is ``alive``
    or not: ``healthy`` plus the guide's fields, the app's own where its answer carries them."""
    body = {}  # type: Dict[str, Any]
    if answer is not None and answer.get("body"):
        try:
            parsed = json.loads(answer["body"])
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else {}
    healthy = alive and (answer is None or bool(answer["ok"]))
    if not alive:
        reason = "not running"
    elif answer is None or answer["ok"]:
        reason = ""
    else:
        reason = str(body.get("reason") or "") or "health endpoint: %s" % (
            answer.get("error") or "HTTP %s" % answer.get("status"))
    connection = body.get("kuksa_connection")
    return {"healthy": healthy, "kuksa_connection": connection if isinstance(connection, bool) else None,
            "app_running": alive and body.get("app_running") is not False, "last_check": now_iso(),
            "reason": reason}


def wait_healthy(pid: int, start_ticks: Optional[int], check: Dict[str, Any], grace: float,
                 timeout: float) -> Tuple[bool, str, Dict[str, Any]]:
    """(healthy, why not, the last verdict). Healthy = alive through ``grace`` and, if it has one,
    its endpoint answered 200; else why not, in the app's own words where it gave them."""
    begin = time.monotonic()
    last = probe(check)
    answered = last is None or last["ok"]
    while True:
        if not procs.alive(pid, start_ticks):
            return False, "the process exited %.1fs after start" % (time.monotonic() - begin), verdict(last, False)
        elapsed = time.monotonic() - begin
        if not answered or elapsed >= grace:
            result = probe(check)
            if result is not None:
                answered = result["ok"]
                last = result
        if answered and elapsed >= grace:
            return True, "", verdict(last, True)
        if elapsed >= max(timeout, grace):
            seen = verdict(last, True)
            return False, "not healthy within %.0fs: %s" % (timeout, seen["reason"]), seen
        time.sleep(POLL)
