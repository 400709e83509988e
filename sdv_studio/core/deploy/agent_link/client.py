"""Calling the device agent: upload it when the device lacks this version, then JSON in, JSON out,
over one session per connection.

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
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sdv_studio.agent import AGENT_DIR, agent_files
from sdv_studio.core.deploy.agent_link.local_target import LocalConnection
from sdv_studio.core.errors import OperationFailed
from sdv_studio.core.ssh.connection import SshConnection
from sdv_studio.core.ssh.stream import CommandStream

# Under the login user's home; the agent picks its data home itself (~/.local/share/sdv-studio).
AGENT_PATH = ".local/share/sdv-studio/agent"


ProgressHandler = Callable[[dict[str, Any]], Awaitable[None]]


class AgentCallError(OperationFailed):
    """The agent ran and answered ``ok: false``; ``answer`` holds its details."""

    def __init__(self, command: str, answer: dict[str, Any]) -> None:
        self.command = command
        self.answer = answer
        super().__init__(str(answer.get("error") or answer.get("reason") or f"agent {command} failed"))


class AgentUnavailable(OperationFailed):
    """The agent could not run at all (no python3, broken upload, garbage output)."""


def _bytecode(rel: str, source: bytes) -> tuple[str, bytes] | None:
    """The module's byte-code for this Python, where importing it on the device would write it
    (``__pycache__/<name>.cpython-3XX.pyc``), checked against the source's hash: a device whose
    Python has this minor version imports the agent without compiling it (~25 ms of CPU a fresh
    device spends once); any other Python never looks at the file and compiles as usual."""
    if rel == "entrypoint.py":  # run as a script: never imported, so never cached
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


@lru_cache(maxsize=1)
def _bootstrap_source() -> str:
    return (AGENT_DIR / "bootstrap.py").read_text(encoding="utf-8")


# Under the login user's home, as a shell word: every command runs in the login user's shell.
AGENT_DIR_SHELL = f'"$HOME"/{AGENT_PATH}'


def agent_line(command: str, args: dict[str, Any] | None = None) -> str:
    """The shell line that runs one agent command: its JSON on stdin, or ``args`` on the line."""
    given = "-" if args is None else shlex.quote(json.dumps(args))
    return f"python3 {AGENT_DIR_SHELL}/entrypoint.py {shlex.quote(command)} {given}"


def _checked(command: str, answer: dict[str, Any]) -> dict[str, Any]:
    if not answer.get("ok"):
        raise AgentCallError(command, answer)
    return answer


class TransferStalled(OperationFailed):
    """Bytes for the device stopped going out: its link is down or it stopped reading."""


_PAYLOAD_CHUNK = 256 * 1024


class AgentSession:
    """The agent's ``session`` on the device: one process answering a connection's calls in turn,
    each a JSON line out and progress lines then a JSON answer line back. After a call that did not
    end cleanly (timeout, lost channel) it refuses more: an answer could still be on its way."""

    def __init__(self, stream: CommandStream, label: str) -> None:
        self._stream = stream
        self._label = label
        self._broken: str | None = None
        self._turn = asyncio.Lock()  # one call at a time: answers come back in order, unlabelled

    async def call(self, command: str, args: dict[str, Any], timeout: float,
                   on_progress: ProgressHandler | None = None, bundle: bytes | None = None,
                   payload: Sequence[bytes] = (), stall: float = 20.0) -> dict[str, Any]:
        """The answer document (``ok`` true or false). ``bundle`` answers the bootstrap's request
        for the agent, on a device that lacks this version. ``payload`` goes right after the request
        (``receive``'s bytes); a piece that waits ``stall`` seconds to go out is TransferStalled."""
        async with self._turn:
            return await self._call(command, args, timeout, on_progress, bundle, payload, stall)

    async def _send_payload(self, payload: Sequence[bytes], stall: float) -> None:
        total = sum(len(piece) for piece in payload)
        for piece in payload:
            for offset in range(0, len(piece), _PAYLOAD_CHUNK):
                try:
                    await asyncio.wait_for(self._stream.send(piece[offset:offset + _PAYLOAD_CHUNK]), stall)
                except (TimeoutError, OSError, EOFError) as exc:
                    self._stream.abort()  # frees the stuck send: the connection is no use any more
                    why = f"no progress for {stall:g}s" if isinstance(exc, TimeoutError) else str(exc) or "closed"
                    raise TransferStalled(f"{self._label}: the transfer stopped ({why}) while sending {total} "
                                          "bytes; check the device's network") from exc

    async def _call(self, command: str, args: dict[str, Any], timeout: float, on_progress: ProgressHandler | None,
                    bundle: bytes | None, payload: Sequence[bytes], stall: float) -> dict[str, Any]:
        if self._broken:
            raise AgentUnavailable(f"{self._label}: the agent session ended ({self._broken})")
        deadline = time.monotonic() + timeout
        self._broken = "a call did not finish"
        if on_progress is not None:
            args = {**args, "progress": True}
        try:
            await self._stream.send(json.dumps({"command": command, "args": args}).encode() + b"\n")
        except (OSError, EOFError):
            pass  # it ended already (no python3, say): its output and stderr tell why, below
        else:
            await self._send_payload(payload, stall)
        while (line := await self._stream.readline(max(0.0, deadline - time.monotonic()))) is not None:
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # not ours: a line some library printed
            if not isinstance(doc, dict):
                continue
            if doc.get("bundle") == "needed" and bundle is not None:
                await self._stream.send(f"{len(bundle)}\n".encode() + bundle)
            elif "progress" in doc and "ok" not in doc:
                if on_progress is not None:
                    await on_progress(doc)
            else:
                self._broken = None
                return doc
        self._broken = "the agent exited"
        err = self._stream.stderr_tail().splitlines()
        detail = err[-1] if err else "its output ended without an answer"
        if any("python3: not found" in e or "python3: command not found" in e for e in err):
            detail = "python3 is not installed on the device"
        raise AgentUnavailable(f"agent {command} did not answer: {detail}")

    async def close(self) -> None:
        self._broken = self._broken or "closed"
        await self._stream.close()


@dataclass
class AgentClient:
    remote: SshConnection | LocalConnection
    session: AgentSession

    async def call(self, command: str, args: dict[str, Any] | None = None, *, timeout: float = 60,
                   on_progress: ProgressHandler | None = None, payload: Sequence[bytes] = (),
                   stall: float = 20.0) -> dict[str, Any]:
        """Run one agent command; its answer, or AgentCallError when it says ok: false. With
        ``on_progress``, the agent's progress lines are handed to it, in order, as they arrive;
        ``payload`` is sent right after the request (see AgentSession.call)."""
        return _checked(command, await self.session.call(command, args or {}, timeout, on_progress,
                                                         payload=payload, stall=stall))

    async def close(self) -> None:
        await self.session.close()


async def connect_agent(remote: SshConnection | LocalConnection, timeout: float, command: str = "info",
                        args: dict[str, Any] | None = None) -> tuple[AgentClient, dict[str, Any]]:
    """An AgentClient for the device behind ``remote``, talking to the agent's session (this version,
    installed first if need be), and the answer to its first ``command``; close the client after.

    One round trip when the device holds this version: the shell checks it and starts the session,
    which answers the request already sent. Otherwise one more: a small bootstrap keeps that request,
    asks for the agent, installs it and serves the session in the same process."""
    digest, bundle = agent_bundle()
    # read (a shell builtin), not $(cat ...): one process less on every first call
    line = (f'read -r sdv_bundle 2>/dev/null <{AGENT_DIR_SHELL}/.bundle; if [ "$sdv_bundle" = {digest} ]; then '
            f"exec python3 {AGENT_DIR_SHELL}/entrypoint.py session; fi; "
            f"exec python3 -I -c {shlex.quote(_bootstrap_source())} {shlex.quote(AGENT_PATH)}")
    session = AgentSession(await remote.start(line, timeout=timeout), remote.target.label)
    try:
        answer = await session.call(command, args or {}, timeout, bundle=bundle)
        if answer.get("agentInstalled") is False:  # the bootstrap could not put the agent in place
            raise AgentUnavailable(f"{remote.target.label}: {answer.get('error')}")
    except BaseException:
        await session.close()
        raise
    return AgentClient(remote, session), _checked(command, answer)
