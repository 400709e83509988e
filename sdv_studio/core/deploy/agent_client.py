"""Calling the device agent: upload it when the device lacks this version, then JSON in, JSON out.

See docs/agent-protocol.md for the commands.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import io
import json
import marshal
import shlex
import tarfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sdv_studio.agent import AGENT_DIR, agent_files
from sdv_studio.core.deploy.local import LocalConnection
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


def _bytecode(rel: str, source: bytes) -> tuple[str, bytes] | None:
    """The module's byte-code for this Python, where importing it on the device would write it
    (``__pycache__/<name>.cpython-3XX.pyc``), checked against the source's hash: a device whose
    Python has this minor version imports the agent without compiling it (~25 ms of CPU a fresh
    device spends once); any other Python never looks at the file and compiles as usual."""
    if rel == "sdv_agent.py":  # run as a script: never imported, so never cached
        return None
    code = compile(source, rel, "exec", dont_inherit=True)
    flags = 0b11  # hash-based, checked: valid whatever the mtimes the tar gives the sources
    header = importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + importlib.util.source_hash(source)
    return importlib.util.cache_from_source(rel), header + marshal.dumps(code)


@lru_cache(maxsize=1)
def agent_bundle() -> tuple[str, bytes]:
    """A digest of the agent's files, so a device is only sent a version it lacks, and the files as
    an uncompressed tar (any device's tar reads it) with a ``.bundle`` file naming that digest, plus
    their byte-code for this Python."""
    files = [(str(rel), (AGENT_DIR / rel).read_bytes()) for rel in agent_files()]
    digest = hashlib.sha256()
    for rel, data in files:
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    name = digest.hexdigest()[:16]
    compiled = [pyc for rel, data in files if (pyc := _bytecode(rel, data))]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, data in [*files, *compiled, (".bundle", name.encode() + b"\n")]:
            member = tarfile.TarInfo(rel)
            member.size, member.mode = len(data), 0o644
            tar.addfile(member, io.BytesIO(data))
    return name, buffer.getvalue()


# Under the login user's home, as a shell word: every command runs in the login user's shell.
AGENT_DIR_SHELL = f'"$HOME"/{AGENT_PATH}'
_MISSING = "sdv-agent-missing"
_INSTALL_FAILED = 70


def agent_line(command: str, args: dict[str, Any] | None = None) -> str:
    """The shell line that runs one agent command: its JSON on stdin, or ``args`` on the line."""
    given = "-" if args is None else shlex.quote(json.dumps(args))
    return f"python3 {AGENT_DIR_SHELL}/sdv_agent.py {shlex.quote(command)} {given}"


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
            result = await self.remote.run(agent_line(command), stdin=json.dumps(args or {}).encode(),
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
            result = await self.remote.run(agent_line(command), stdin=json.dumps({**(args or {}), "progress": True})
                                           .encode(), timeout=timeout, on_line=lines.put_nowait)
        finally:
            lines.put_nowait(None)
            await relaying
        return _answer(command, result)


async def connect_agent(remote: SshConnection | LocalConnection, timeout: float, command: str = "info",
                        args: dict[str, Any] | None = None) -> tuple[AgentClient, dict[str, Any]]:
    """An AgentClient for the device behind ``remote``, with this agent version installed, and the
    answer to its first ``command``. One round trip when the device holds this version: the shell
    checks the version and runs the command. Otherwise one more: the agent goes in as a tar on
    stdin, unpacked beside the old one and renamed into place (a device never runs half an agent),
    then the command runs."""
    digest, bundle = agent_bundle()
    here, new, old = AGENT_DIR_SHELL, f"{AGENT_DIR_SHELL}.new", f"{AGENT_DIR_SHELL}.old"
    probe = (f'if [ "$(cat {here}/.bundle 2>/dev/null)" = {digest} ]; then exec {agent_line(command)}; fi; '
             f'cat >/dev/null; echo {_MISSING}')
    result = await remote.run(probe, stdin=json.dumps(args or {}).encode(), timeout=timeout)
    if result.stdout.strip() == _MISSING:
        install = (f"rm -rf {new} {old} && mkdir -p {new} && tar -x -f - -C {new} && "
                   f"{{ [ ! -e {here} ] || mv {here} {old}; }} && mv {new} {here} && rm -rf {old} "
                   f'|| {{ echo "could not install the agent in {here}" >&2; exit {_INSTALL_FAILED}; }}; '
                   f"exec {agent_line(command, args or {})}")
        result = await remote.run(install, stdin=bundle, timeout=timeout)
        if result.exit_status == _INSTALL_FAILED and not result.stdout.strip():
            raise AgentUnavailable(f"{remote.target.label}: " + "; ".join(result.stderr.strip().splitlines()[-3:]))
    return AgentClient(remote), _answer(command, result)
