"""Runs the agent as a real subprocess, copied to a device-like folder, against a temp HOME.

Every test's supervisor and apps are stopped at teardown, even when the test failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.agent import AGENT_DIR, agent_files


class Agent:
    def __init__(self, root: Path, python: str) -> None:
        self.home = root / "home"
        self.base = self.home / ".local" / "share" / "sdv-studio"
        self.dir = self.base / "agent"
        self.python = python
        for rel in agent_files():
            (self.dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(AGENT_DIR / rel, self.dir / rel)
        self.env = dict(os.environ, HOME=str(self.home), SDV_AGENT_HOME=str(self.base), SDV_AGENT_NO_SYSTEMD="1")
        self.env.pop("PYTHONPATH", None)

    def run(self, command: str, args: dict[str, Any] | None = None, expect_ok: bool = True) -> dict[str, Any]:
        done = subprocess.run(
            [self.python, str(self.dir / "entrypoint.py"), command, json.dumps(args or {})],
            capture_output=True, text=True, env=self.env, timeout=120, check=False,
        )
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(
                f"{command}: not JSON (exit {done.returncode}): {done.stdout!r} {done.stderr!r}"
            ) from None
        answer["exitCode"] = done.returncode
        if expect_ok:
            assert answer["ok"] and done.returncode == 0, answer
        return answer

    def popen(self, command: str, args: dict[str, Any]) -> subprocess.Popen:
        return subprocess.Popen(
            [self.python, str(self.dir / "entrypoint.py"), command, json.dumps(args)],
            stdout=subprocess.PIPE, text=True, env=self.env,
        )

    def supervisor_pid(self) -> int | None:
        path = self.base / "run" / "supervisor.pid"
        return int(path.read_text()) if path.exists() else None

    def cleanup(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired, AssertionError):
            self.run("supervisor", {"action": "stop", "stopApps": True, "timeout": 3}, expect_ok=False)
        # Whatever is left (a test that killed the supervisor, a hung stop): kill by recorded pid.
        state = self.base / "run" / "supervisor.json"
        pids = [self.supervisor_pid()]
        if state.exists():
            pids += [i.get("pid") for i in json.loads(state.read_text()).get("instances", {}).values()]
        for pid in filter(None, pids):
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)


def is_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_for(predicate: Any, what: str, timeout: float = 30.0) -> Any:
    """Polls until ``predicate()`` is truthy; the timeout only bounds a hang, it is not asserted on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    a = Agent(tmp_path, sys.executable)
    yield a
    a.cleanup()


# Short gates keep the suite fast; the health endpoint must still answer.
FAST = {"graceSeconds": 0.5, "healthTimeout": 20}
