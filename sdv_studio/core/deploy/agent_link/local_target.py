"""This computer as a deployment target, without SSH: the agent runs as a local process.

It offers the same surface the engine uses of an SSH connection (``target``, ``run``, ``start``), so the
whole wizard works with no hardware and no SSH server.
"""

from __future__ import annotations

import asyncio
import contextlib

from sdv_studio.child_env import child_env
from sdv_studio.core.ssh.connection import CommandResult, LineHandler
from sdv_studio.core.ssh.errors import CommandTimeout
from sdv_studio.core.ssh.target import SshTarget, local_user

LOCAL_ID = "local"
LOCAL_NAME = "This computer"


def local_target() -> SshTarget:
    return SshTarget(LOCAL_ID, 0, local_user(), None, use_keyring=False)


def is_local(target: SshTarget) -> bool:
    return target.host == LOCAL_ID


async def _communicate_lines(process: asyncio.subprocess.Process, stdin: bytes | None,
                             on_line: LineHandler) -> tuple[bytes, bytes]:
    """``communicate()``, handing each stdout line to ``on_line`` as it arrives."""
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    if stdin:
        process.stdin.write(stdin)
    process.stdin.close()
    lines: list[bytes] = []

    async def read_out() -> bytes:
        async for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.endswith(b"\n"):
                on_line(line[:-1].decode(errors="replace"))
        return b"".join(lines)

    out, err = await asyncio.gather(read_out(), process.stderr.read())
    await process.wait()
    return out, err


class LocalStream:
    """A local command kept running: bytes in on its stdin, lines out of its stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._stderr = bytearray()
        self._ended = False
        self._drain = asyncio.create_task(self._keep_stderr())

    async def _keep_stderr(self) -> None:
        assert self._process.stderr is not None
        while chunk := await self._process.stderr.read(65536):
            self._stderr += chunk
            del self._stderr[:-8192]

    async def send(self, data: bytes) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(data)
        await self._process.stdin.drain()

    async def readline(self, timeout: float) -> str | None:
        assert self._process.stdout is not None
        if self._ended:
            return None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        except TimeoutError:
            raise CommandTimeout(LOCAL_NAME, "the agent's answer", timeout) from None
        self._ended = not line.endswith(b"\n")
        if not line:  # the end: let stderr_tail() see everything it said
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._drain), 5)
            return None
        return line.rstrip(b"\n").decode(errors="replace")

    def stderr_tail(self) -> str:
        return bytes(self._stderr).decode(errors="replace").strip()

    def abort(self) -> None:
        if self._process.returncode is None:
            self._process.kill()

    async def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        await self._drain


class LocalConnection:
    def __init__(self) -> None:
        self.target = local_target()
        self.host_key_fingerprint = None

    async def run(self, command: str, *, stdin: bytes | None = None, timeout: float = 60.0,
                  on_line: LineHandler | None = None) -> CommandResult:
        process = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=1 << 24,  # an answer is one line
            env=child_env(),  # a frozen app's library path must not reach the agent
        )
        try:
            if on_line is None:
                out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
            else:
                out, err = await asyncio.wait_for(_communicate_lines(process, stdin, on_line), timeout)
        except TimeoutError as exc:
            process.kill()
            await process.wait()
            raise CommandTimeout(LOCAL_NAME, f"command {command.split()[0]!r}", timeout) from exc
        return CommandResult(process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))

    async def start(self, command: str, *, timeout: float = 60.0) -> LocalStream:
        """Start ``command`` and keep talking to it (see ``LocalStream``)."""
        return LocalStream(await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=1 << 24, env=child_env()))

    def close(self) -> None:
        """Nothing to close: there is no connection."""
