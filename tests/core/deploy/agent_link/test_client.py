"""Getting the agent onto a device and making its first call, on "This computer" (no SSH needed:
the same shell lines run through /bin/sh)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy.agent_link.client import (
    AGENT_PATH,
    AgentCallError,
    AgentUnavailable,
    agent_bundle,
    connect_agent,
)
from sdv_studio.core.deploy.agent_link.local_target import LocalConnection, LocalStream
from sdv_studio.core.ssh.connection import CommandResult


class CountingConnection(LocalConnection):
    """Counts the commands started and the bytes sent to them."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: list[str] = []
        self.sent = 0

    async def run(self, command: str, **kw: Any) -> CommandResult:
        self.commands.append(command)
        return await super().run(command, **kw)

    async def start(self, command: str, **kw: Any) -> LocalStream:
        self.commands.append(command)
        stream = await super().start(command, **kw)
        send = stream.send

        async def counting(data: bytes) -> None:
            self.sent += len(data)
            await send(data)

        stream.send = counting  # type: ignore[method-assign]
        return stream


def _connect(conn: CountingConnection, command: str = "info", args: dict[str, Any] | None = None) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        agent, answer = await connect_agent(conn, 30, command, args)
        await agent.close()
        return answer

    return asyncio.run(go())


def test_first_call_installs_the_agent_then_costs_one_round_trip(local_target_home: Path) -> None:
    agent_dir = local_target_home / AGENT_PATH
    bundle = len(agent_bundle()[1])
    fresh = CountingConnection()
    info = _connect(fresh)
    assert len(fresh.commands) == 1 and info["properties"]["python"]  # one process: installs, then answers
    assert fresh.sent > bundle  # the request, then the bundle it asked for
    assert (agent_dir / ".bundle").read_text().strip() == agent_bundle()[0]

    again = CountingConnection()
    prepared = _connect(again, "prepare", {"name": "demo", "packageId": "pkg_00000000000000ff"})
    assert len(again.commands) == 1 and again.sent < 1000  # the request alone
    assert prepared["installed"] is None and prepared["command"] == "prepare"


def test_one_session_answers_many_calls_in_turn_with_progress(local_target_home: Path) -> None:
    async def go() -> tuple[list[dict[str, Any]], list[str], int]:
        conn = CountingConnection()
        agent, _ = await connect_agent(conn, 30, "info")
        seen: list[str] = []

        async def progress(event: dict[str, Any]) -> None:
            seen.append(event["progress"])

        answers = [await agent.call("status"), await agent.call("supervisor", {"action": "status"})]
        with pytest.raises(AgentCallError, match="name"):
            await agent.call("stop", {"name": "Not A Name"}, on_progress=progress)
        answers.append(await agent.call("metrics"))
        await agent.close()
        return answers, seen, len(conn.commands)

    answers, seen, started = asyncio.run(go())
    assert started == 1 and [a["command"] for a in answers] == ["status", "supervisor", "metrics"]
    assert answers[0]["apps"] == [] and answers[2]["memory"]["total"] > 0 and seen == []


def test_an_older_agent_is_replaced_whole(local_target_home: Path) -> None:
    agent_dir = local_target_home / AGENT_PATH
    agent_dir.mkdir(parents=True)
    (agent_dir / ".bundle").write_text("0000000000000000\n")
    (agent_dir / "stale.py").write_text("old")
    conn = CountingConnection()
    assert _connect(conn)["ok"] and conn.sent > len(agent_bundle()[1])
    assert not (agent_dir / "stale.py").exists()
    assert sorted(p.name for p in agent_dir.parent.iterdir() if p.name.startswith("agent")) == ["agent"]


def test_a_home_that_cannot_take_the_agent_is_reported(local_target_home: Path) -> None:
    share = local_target_home / ".local" / "share" / "sdv-studio"
    share.rmdir()
    share.write_text("a file where the agent's folder should be")  # even root cannot mkdir below it
    with pytest.raises(AgentUnavailable, match="could not install the agent"):
        _connect(CountingConnection())


_COMPILED = """
import builtins, sys
real = builtins.compile
seen = []
def spy(source, filename, *args, **kwargs):
    seen.append(str(filename))
    return real(source, filename, *args, **kwargs)
builtins.compile = spy
import sdvagent.cli, sdvagent.lifecycle, sdvagent.supervisor
print(sorted(f.rsplit("/", 1)[-1] for f in seen if "sdvagent" in f))
"""


def test_the_bundle_carries_byte_code_this_python_imports_and_a_changed_source_outdates(tmp_path: Path) -> None:
    import io
    import subprocess
    import sys
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(agent_bundle()[1])) as tar:
        tar.extractall(tmp_path, filter="data")

    def compiled() -> str:
        env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run([sys.executable, "-c", _COMPILED], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert compiled() == "[]"  # every module came from the shipped byte-code
    with (tmp_path / "sdvagent" / "cli.py").open("a") as f:
        f.write("# edited on the device\n")
    assert compiled() == "['cli.py']"  # its byte-code no longer matches the source: compiled again


def test_a_device_without_python3_is_reported_as_such(local_target_home: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # /bin/sh runs, but finds no python3
    with pytest.raises(AgentUnavailable, match="python3 is not installed on the device"):
        _connect(CountingConnection())


def test_concurrent_calls_on_one_session_take_turns(local_target_home: Path) -> None:
    async def go() -> list[str]:
        agent, _ = await connect_agent(CountingConnection(), 30, "info")
        try:
            answers = await asyncio.gather(*(agent.call(c) for c in ("status", "metrics", "info", "status")))
        finally:
            await agent.close()
        return [a["command"] for a in answers]

    assert asyncio.run(go()) == ["status", "metrics", "info", "status"]
