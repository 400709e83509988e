"""Calling the device agent: upload it when the device lacks this version, then JSON in, JSON out.

See docs/agent-protocol.md for the commands.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sdv_studio.agent import AGENT_DIR, agent_files
from sdv_studio.core.deploy.local import LocalConnection
from sdv_studio.core.deploy.uploads import upload_files
from sdv_studio.core.ssh.connection import SshConnection

# Under the login user's home; the agent picks its data home itself (~/.local/share/sdv-studio).
AGENT_PATH = ".local/share/sdv-studio/agent"


class AgentCallError(Exception):
    """The agent ran and answered ``ok: false``; ``answer`` holds its details."""

    def __init__(self, command: str, answer: dict[str, Any]) -> None:
        self.command = command
        self.answer = answer
        super().__init__(str(answer.get("error") or answer.get("reason") or f"agent {command} failed"))


class AgentUnavailable(Exception):
    """The agent could not run at all (no python3, broken upload, garbage output)."""


@lru_cache(maxsize=1)
def agent_bundle() -> tuple[str, tuple[tuple[str, bytes], ...]]:
    """The agent's files and a digest of them, so a device is only sent a version it lacks."""
    files = tuple((str(rel), (AGENT_DIR / rel).read_bytes()) for rel in agent_files())
    digest = hashlib.sha256()
    for rel, data in files:
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:16], files


@dataclass
class AgentClient:
    remote: SshConnection | LocalConnection
    home: str  # the login user's home on the device, absolute

    installed_bundle: str | None = None  # what the device reported, from ``connect_agent``

    @property
    def agent_dir(self) -> str:
        return f"{self.home}/{AGENT_PATH}"

    async def ensure_installed(self) -> bool:
        """Upload the agent unless this exact version is already there; True when uploaded."""
        digest, files = agent_bundle()
        if self.installed_bundle == digest:
            return False
        # A fresh folder then a rename: a device never runs half an agent.
        staging = f"{self.agent_dir}.new"
        await self.remote.run(f"rm -rf {shlex.quote(staging)}", timeout=15)
        uploads = [(data, f"{staging}/{rel}") for rel, data in files]
        uploads.append((digest.encode() + b"\n", f"{staging}/.bundle"))
        await upload_files(self.remote, uploads)
        swap = (
            f"rm -rf {shlex.quote(self.agent_dir)}.old && "
            f"{{ [ ! -e {shlex.quote(self.agent_dir)} ] || mv {shlex.quote(self.agent_dir)} "
            f"{shlex.quote(self.agent_dir)}.old; }} && mv {shlex.quote(staging)} {shlex.quote(self.agent_dir)} && "
            f"rm -rf {shlex.quote(self.agent_dir)}.old"
        )
        result = await self.remote.run(swap, timeout=15)
        if result.exit_status != 0:
            raise AgentUnavailable(f"could not install the agent: {result.stderr.strip()}")
        self.installed_bundle = digest
        return True

    async def call(self, command: str, args: dict[str, Any] | None = None, *, timeout: float = 60) -> dict[str, Any]:
        """Run one agent command; its answer, or AgentCallError when it says ok: false."""
        line = f"python3 {shlex.quote(self.agent_dir)}/sdv_agent.py {shlex.quote(command)} -"
        result = await self.remote.run(line, stdin=json.dumps(args or {}).encode(), timeout=timeout)
        try:
            answer = json.loads(result.stdout)
        except ValueError:
            err = (result.stderr or result.stdout).strip().splitlines()
            detail = err[-1] if err else f"exit status {result.exit_status}"
            if result.exit_status == 127:
                detail = "python3 is not installed on the device"
            raise AgentUnavailable(f"agent {command} did not answer: {detail}") from None
        if not isinstance(answer, dict):
            raise AgentUnavailable(f"agent {command} answered {type(answer).__name__}, not an object")
        if not answer.get("ok"):
            raise AgentCallError(command, answer)
        return answer


# One round trip finds the home folder and which agent version, if any, the device holds.
_LOOK = f'printf "%s\\n" "$HOME"; cat "$HOME/{AGENT_PATH}/.bundle" 2>/dev/null'


async def connect_agent(remote: SshConnection | LocalConnection, timeout: float) -> AgentClient:
    """An AgentClient for the device behind ``remote``, with an up-to-date agent installed."""
    lines = (await remote.run(_LOOK, timeout=timeout)).stdout.splitlines()
    home = lines[0].strip() if lines else ""
    if not home.startswith("/"):
        raise AgentUnavailable(f"{remote.target.label}: the login user has no home folder")
    agent = AgentClient(remote, home, lines[1].strip() if len(lines) > 1 else None)
    await agent.ensure_installed()
    return agent
