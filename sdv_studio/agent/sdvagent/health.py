"""Health gates: a process must stay up through a grace period and answer its health endpoint."""

from __future__ import annotations

import socket
import time

from . import procs

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Optional, Tuple

POLL = 0.2
_MAX_REPLY = 64 * 1024


def free_port() -> int:
    # Ask the kernel for a free port on loopback; the app binds it a moment later.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_http(port: int, path: str, timeout: float = 1.0) -> Dict[str, Any]:
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


def wait_healthy(pid: int, start_ticks: Optional[int], check: Dict[str, Any], grace: float,
                 timeout: float) -> Tuple[bool, str]:
    """(healthy, why not). Healthy = alive through ``grace`` and, if it has one, its endpoint answered."""
    begin = time.monotonic()
    answered = probe(check) is None
    last = {}  # type: Dict[str, Any]
    while True:
        if not procs.alive(pid, start_ticks):
            return False, "the process exited %.1fs after start" % (time.monotonic() - begin)
        elapsed = time.monotonic() - begin
        if not answered or elapsed >= grace:
            result = probe(check)
            if result is not None:
                answered = result["ok"]
                last = result
        if answered and elapsed >= grace:
            return True, ""
        if elapsed >= max(timeout, grace):
            return False, "no healthy answer from the health endpoint within %.0fs (last: %s)" % (
                timeout, last.get("error") or "HTTP %s" % last.get("status"))
        time.sleep(POLL)
