"""Getting the agent onto a device and making its first call, on "This computer" (no SSH needed:
the same shell lines run through /bin/sh)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy.agent_client import AGENT_PATH, AgentUnavailable, agent_bundle, connect_agent
from sdv_studio.core.deploy.local import LocalConnection
from sdv_studio.core.ssh.connection import CommandResult


class CountingConnection(LocalConnection):
    def __init__(self) -> None:
        super().__init__()
        self.commands: list[str] = []

    async def run(self, command: str, **kw: Any) -> CommandResult:
        self.commands.append(command)
        return await super().run(command, **kw)


def _connect(conn: CountingConnection, command: str = "info", args: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(connect_agent(conn, 30, command, args))[1]


def test_first_call_installs_the_agent_then_costs_one_round_trip(local_target_home: Path) -> None:
    agent_dir = local_target_home / AGENT_PATH
    fresh = CountingConnection()
    info = _connect(fresh)
    assert len(fresh.commands) == 2 and info["properties"]["python"]  # version check, then install + call
    assert (agent_dir / ".bundle").read_text().strip() == agent_bundle()[0]

    again = CountingConnection()
    prepared = _connect(again, "prepare", {"name": "demo", "packageId": "pkg_00000000000000ff"})
    assert len(again.commands) == 1 and prepared["installed"] is None and prepared["command"] == "prepare"


def test_an_older_agent_is_replaced_whole(local_target_home: Path) -> None:
    agent_dir = local_target_home / AGENT_PATH
    agent_dir.mkdir(parents=True)
    (agent_dir / ".bundle").write_text("0000000000000000\n")
    (agent_dir / "stale.py").write_text("old")
    conn = CountingConnection()
    assert _connect(conn)["ok"] and len(conn.commands) == 2
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
