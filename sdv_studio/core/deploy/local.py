"""This computer as a deployment target, without SSH: the agent runs as a local process.

It offers the same surface the engine uses of an SSH connection (``target``, ``run``), so the
whole wizard works with no hardware and no SSH server.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

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

    def write(self, data: bytes, path: str, mode: int) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.chmod(target, mode)

    def close(self) -> None:
        """Nothing to close: there is no connection."""
