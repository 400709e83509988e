"""A command kept running on one SSH channel: bytes in on its stdin, lines out of its stdout.

For a conversation with a remote process (the agent's session) where ``run`` would start a
process per exchange. A thread of the connection's executor reads the channel for as long as it
is open and hands whole lines to the event loop; stderr is kept to explain a sudden end.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import paramiko

from sdv_studio.core.ssh.errors import CommandTimeout

_STDERR_KEPT = 8192
_CLOSE_WAIT = 5.0


class CommandStream(Protocol):
    """What the agent's session needs of a running command, over SSH or on this computer."""

    async def send(self, data: bytes) -> None: ...

    async def readline(self, timeout: float) -> str | None:
        """The next stdout line without its newline; None once the command's output ended."""

    def stderr_tail(self) -> str: ...

    async def close(self) -> None:
        """End its stdin (the command then finishes on its own) and let the channel go."""

    def abort(self) -> None:
        """Give up at once: after a send that stopped moving, the link is presumed dead."""


class SshStream:
    def __init__(self, host: str, chan: paramiko.Channel, executor: ThreadPoolExecutor) -> None:
        self._host = host
        self._chan = chan
        self._executor = executor
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._ended = False
        self._stderr = bytearray()
        self._pump: Future[None] = executor.submit(self._read_channel)

    def _deliver(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is gone: nobody is listening any more
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    def _read_channel(self) -> None:
        chan, pending = self._chan, bytearray()
        try:
            while True:
                select.select([chan], [], [], 1.0)
                while chan.recv_stderr_ready():
                    self._stderr += chan.recv_stderr(65536)
                    del self._stderr[:-_STDERR_KEPT]
                if chan.recv_ready():
                    pending += chan.recv(65536)
                    *lines, rest = pending.split(b"\n")
                    for line in lines:
                        self._deliver(line.decode(errors="replace"))
                    pending = bytearray(rest)
                elif chan.closed or (chan.eof_received and not chan.recv_stderr_ready()):
                    break  # a closed channel without EOF is always "ready": never spin on it
        except (OSError, EOFError, paramiko.SSHException):
            pass  # the connection went away: the end of the output says so
        finally:
            self._deliver(None)

    async def send(self, data: bytes) -> None:
        await self._loop.run_in_executor(self._executor, self._chan.sendall, data)

    async def readline(self, timeout: float) -> str | None:
        if self._ended:
            return None
        try:
            line = await asyncio.wait_for(self._lines.get(), timeout)
        except TimeoutError:
            raise CommandTimeout(self._host, "the agent's answer", timeout) from None
        self._ended = line is None
        return line

    def stderr_tail(self) -> str:
        return bytes(self._stderr).decode(errors="replace").strip()

    async def close(self) -> None:
        """Never raises, never hangs: it also runs while a failure is on its way up, after the
        connection died or while a write to it is stuck."""
        def end() -> None:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                self._chan.shutdown_write()
                self._chan.close()

        if not self._chan.get_transport() or not self._chan.get_transport().is_active():
            return
        try:
            await asyncio.wait_for(self._loop.run_in_executor(self._executor, end), _CLOSE_WAIT)
        except RuntimeError:  # the connection was closed (its executor with it) after a failure
            end()
        except TimeoutError:  # a write to the socket blocks every other one: the link is gone
            self.abort()

    def abort(self) -> None:
        """Close the whole connection: paramiko retries a socket write blocked on a dead link for
        ever, and only closing its transport makes that write (and every one behind it) fail."""
        transport = self._chan.get_transport()
        if transport is not None:
            transport.close()
