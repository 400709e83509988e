"""Calling the device agent: upload it when the device lacks this version, then JSON in, JSON out.

See docs/agent-protocol.md for the commands.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sdv_studio.agent import AGENT_DIR, agent_files
from sdv_studio.core.deploy.local import LocalConnection
from sdv_studio.core.deploy.uploads import upload_files
from sdv_studio.core.ssh.connection import CommandResult, SshConnection

# Under the login user's home; the agent picks its data home itself (~/.local/share/sdv-studio).
AGENT_PATH = ".local/share/sdv-studio/agent"


ProgressHandler = Callable[[dict[str, Any]], Awaitable[None]]


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


# Under the login user's home, as a shell word: every command runs in the login user's shell.
AGENT_DIR_SHELL = f'"$HOME"/{AGENT_PATH}'
_MISSING = "sdv-agent-missing:"


def _agent_line(command: str) -> str:
    return f"python3 {AGENT_DIR_SHELL}/sdv_agent.py {shlex.quote(command)} -"


def _answer(command: str, result: CommandResult) -> dict[str, Any]:
    lines = result.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])  # progress lines, if any, come before it
    except (IndexError, ValueError):
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


@dataclass
class AgentClient:
    remote: SshConnection | LocalConnection

    async def call(self, command: str, args: dict[str, Any] | None = None, *, timeout: float = 60,
                   on_progress: ProgressHandler | None = None) -> dict[str, Any]:
        """Run one agent command; its answer, or AgentCallError when it says ok: false. With
        ``on_progress``, the agent's progress lines are handed to it, in order, as they arrive."""
        if on_progress is None:
            result = await self.remote.run(_agent_line(command), stdin=json.dumps(args or {}).encode(),
                                           timeout=timeout)
            return _answer(command, result)
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        async def relay() -> None:
            while (line := await lines.get()) is not None:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and "progress" in event:
                    await on_progress(event)

        relaying = asyncio.create_task(relay())
        try:
            result = await self.remote.run(_agent_line(command), stdin=json.dumps({**(args or {}), "progress": True})
                                           .encode(), timeout=timeout, on_line=lines.put_nowait)
        finally:
            lines.put_nowait(None)
            await relaying
        return _answer(command, result)


async def connect_agent(remote: SshConnection | LocalConnection, timeout: float, command: str = "info",
                        args: dict[str, Any] | None = None) -> tuple[AgentClient, dict[str, Any]]:
    """An AgentClient for the device behind ``remote``, with this agent version installed, and the
    answer to its first ``command``. One round trip when the device holds this version: the shell
    checks the version and runs the command; otherwise it answers with the home folder, the agent
    is uploaded, and the switch to it runs the command in the same round trip."""
    digest, files = agent_bundle()
    stdin = json.dumps(args or {}).encode()
    probe = (f'if [ "$(cat {AGENT_DIR_SHELL}/.bundle 2>/dev/null)" = {digest} ]; then exec {_agent_line(command)}; fi; '
             f'cat >/dev/null; rm -rf {AGENT_DIR_SHELL}.new; printf "{_MISSING}%s\\n" "$HOME"')
    result = await remote.run(probe, stdin=stdin, timeout=timeout)
    if result.stdout.startswith(_MISSING):
        home = result.stdout[len(_MISSING):].strip()
        if not home.startswith("/"):
            raise AgentUnavailable(f"{remote.target.label}: the login user has no home folder")
        result = await _install_then_run(remote, f"{home}/{AGENT_PATH}", digest, files, command, stdin, timeout)
    return AgentClient(remote), _answer(command, result)


async def _install_then_run(remote: SshConnection | LocalConnection, agent_dir: str, digest: str,
                            files: tuple[tuple[str, bytes], ...], command: str, stdin: bytes,
                            timeout: float) -> CommandResult:
    # A fresh folder then a rename: a device never runs half an agent.
    staging = f"{agent_dir}.new"
    uploads = [(data, f"{staging}/{rel}") for rel, data in files]
    uploads.append((digest.encode() + b"\n", f"{staging}/.bundle"))
    await upload_files(remote, uploads)
    here, new, old = shlex.quote(agent_dir), shlex.quote(staging), shlex.quote(agent_dir + ".old")
    swap = (f"rm -rf {old} && {{ [ ! -e {here} ] || mv {here} {old}; }} && mv {new} {here} && rm -rf {old} "
            f'|| {{ cat >/dev/null; echo "could not install the agent in {agent_dir}" >&2; exit 70; }}')
    result = await remote.run(f"{swap}; exec {_agent_line(command)}", stdin=stdin, timeout=timeout)
    if result.exit_status == 70 and not result.stdout.strip():
        raise AgentUnavailable(result.stderr.strip().splitlines()[-1])
    return result
