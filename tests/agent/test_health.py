"""The agent's HTTP health probe against real sockets: 200, another status, garbage, silence, nothing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from sdv_studio.agent.sdvagent import health


@pytest.fixture
def server() -> Iterator[tuple[int, list[bytes], list[bytes]]]:
    """A loopback server that answers each connection with the next queued reply, recording requests."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    replies: list[bytes] = []
    requests: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                requests.append(conn.recv(4096))
                reply = replies.pop(0)
                if reply:
                    conn.sendall(reply)
                else:
                    conn.recv(1)  # say nothing until the prober gives up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], replies, requests
    listener.close()


def test_200_is_healthy_and_the_body_is_kept(server: tuple[int, list[bytes], list[bytes]]) -> None:
    port, replies, requests = server
    replies.append(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"status": "ok"}')
    assert health.probe({"port": port, "path": "/health"}) == {"ok": True, "status": 200, "body": '{"status": "ok"}'}
    assert requests[0].startswith(b"GET /health HTTP/1.0\r\n") and requests[0].endswith(b"\r\n\r\n")


def test_another_status_is_unhealthy_with_the_status(server: tuple[int, list[bytes], list[bytes]]) -> None:
    port, replies, _ = server
    replies.append(b"HTTP/1.0 503 Service Unavailable\r\n\r\ndatabroker unreachable")
    assert health.probe_http(port, "/health") == {"ok": False, "status": 503, "body": "databroker unreachable"}


def test_garbage_and_silence_are_unhealthy_with_a_reason(server: tuple[int, list[bytes], list[bytes]]) -> None:
    port, replies, _ = server
    replies += [b"SSH-2.0-OpenSSH_9.2\r\n", b""]
    garbage = health.probe_http(port, "/health")
    assert not garbage["ok"] and garbage["error"].startswith("not an HTTP answer: b'SSH-2.0")
    silent = health.probe_http(port, "/health", timeout=0.2)
    assert not silent["ok"] and "timed out" in silent["error"]


def test_nothing_listening_is_unhealthy_with_the_socket_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        refused = health.probe_http(port, "/health")
    assert not refused["ok"] and "refused" in refused["error"].lower()


def test_a_verdict_takes_the_apps_own_fields_and_says_why_not() -> None:
    body = '{"kuksa_connection": false, "app_running": true, "reason": "databroker 10.0.0.9:55555 not reachable"}'
    degraded = health.verdict({"ok": False, "status": 503, "body": body}, alive=True)
    assert {k: degraded[k] for k in ("healthy", "kuksa_connection", "app_running", "reason")} == {
        "healthy": False, "kuksa_connection": False, "app_running": True,
        "reason": "databroker 10.0.0.9:55555 not reachable"}
    assert degraded["last_check"].endswith("Z")
    silent = health.verdict({"ok": False, "error": "timed out"}, alive=True)
    assert (silent["healthy"], silent["kuksa_connection"]) == (False, None)
    assert silent["reason"] == "health endpoint: timed out"
    plain = health.verdict({"ok": True, "status": 200, "body": "ok"}, alive=True)  # not JSON: no fields of its own
    assert (plain["healthy"], plain["kuksa_connection"], plain["reason"]) == (True, None, "")
    assert health.verdict(None, alive=False)["reason"] == "not running"
