"""The relay a sandboxed container reaches its brokers through: TCP inside, a unix socket between,
TCP outside; the inside half runs the app and ends with it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio.agent.sdvagent import relay
from tests.agent.conftest import Agent, wait_for
from tests.broker.helpers import free_port

RELAY = relay.__file__
CLIENT = """\
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as conn:
    conn.sendall(b"ping")
    conn.shutdown(socket.SHUT_WR)
    print(conn.recv(100).decode())
sys.exit(7)
"""


@pytest.fixture
def echo() -> Iterator[int]:
    """A TCP server on loopback that answers each connection with what it sent, upper-cased."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(conn.recv(100).upper())

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def test_a_connection_crosses_both_halves_and_the_inside_half_exits_as_the_app(echo: int, tmp_path: Path) -> None:
    sock = tmp_path / "broker.sock"
    outside = subprocess.Popen([sys.executable, RELAY, "outside", f"{sock}={'127.0.0.1'}:{echo}"])
    try:
        wait_for(sock.exists, "the outside socket")
        assert sock.stat().st_mode & 0o666 == 0o666  # a container's user is another uid
        port = free_port()
        inside = subprocess.run([sys.executable, RELAY, "inside", f"127.0.0.1:{port}={sock}", "--",
                                 sys.executable, "-c", f"import time; time.sleep(0.5)\n{CLIENT}", str(port)],
                                capture_output=True, text=True, timeout=30, check=False)
        assert (inside.stdout.strip(), inside.returncode) == ("PING", 7), inside.stderr
    finally:
        outside.terminate()
        outside.wait(timeout=10)


def test_sigterm_reaches_the_app_and_its_exit_is_reported_as_a_shell_would(tmp_path: Path) -> None:
    inside = subprocess.Popen([sys.executable, RELAY, "inside", f"127.0.0.1:{free_port()}={tmp_path / 'none.sock'}",
                               "--", sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    assert inside.stdout is not None and inside.stdout.readline() == "up\n"
    inside.send_signal(signal.SIGTERM)
    assert inside.wait(timeout=10) == 128 + signal.SIGTERM


def test_the_agent_serves_one_relay_per_broker_and_keeps_it_across_deployments(
    agent: Agent, echo: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = agent.run("relay", {"targets": [f"127.0.0.1:{echo}"]})
    folder = Path(first["folder"])
    assert folder.stat().st_mode & 0o777 == 0o711 and (folder / "relay.py").read_bytes() == Path(RELAY).read_bytes()
    sock = folder / first["sockets"][f"127.0.0.1:{echo}"]
    wait_for(sock.exists, "the relay's socket")
    assert agent.run("service", {"action": "status", "name": sock.stem})["running"]
    assert agent.run("relay", {"targets": [f"127.0.0.1:{echo}"]})["sockets"] == first["sockets"]
    started = [i["startedAt"] for i in _services(agent, sock.stem)]
    assert len(started) == 1  # not restarted: containers using it keep their connections
    monkeypatch.chdir(folder)  # the test's home is deeper than a unix socket's path may be long
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(sock.name)
        conn.sendall(b"hello")
        conn.shutdown(socket.SHUT_WR)
        assert conn.recv(100) == b"HELLO"
    refused = agent.run("relay", {"targets": ["no-port"]}, expect_ok=False)
    assert "targets must be host:port" in refused["error"]


def _services(agent: Agent, name: str) -> list[dict]:
    state = json.loads((agent.base / "run" / "supervisor.json").read_text())
    return [i for i in state["instances"].values() if i["app"] == name]
