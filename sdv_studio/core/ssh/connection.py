"""``async with connect(target, trust) as conn``: one verified, authenticated SSH connection.

paramiko is blocking, so every call runs in a small executor owned by the connection. The
executor is created on the caller's thread when connecting, so its threads (and sockets) live
in the caller's network namespace; a shared pool could hold threads made elsewhere.
"""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import paramiko

from sdv_studio.core.ssh.auth import authenticate
from sdv_studio.core.ssh.errors import CommandTimeout, Timeout, Unreachable
from sdv_studio.core.ssh.known_hosts import fingerprint
from sdv_studio.core.ssh.sftp import AsyncSftp
from sdv_studio.core.ssh.stream import SshStream
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust

T = TypeVar("T")
DEFAULT_TIMEOUT = 15.0
# A known RSA key may be presented under any of its signature algorithms.
_KEY_ALGORITHMS = {"ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]}


@dataclass(frozen=True)
class CommandResult:
    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class _QuickAck:
    """A socket that acknowledges what it receives at once. sshd keeps Nagle on for exec sessions,
    so while our delayed ACK of its previous message is pending it holds its next small reply:
    ~40 ms on the first channel of every connection (after the host-keys message that follows
    authentication)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def recv(self, size: int) -> bytes:
        data = self._sock.recv(size)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return data

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


def _open_transport(target: SshTarget, timeout: float, key_types: list[str]) -> paramiko.Transport:
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except TimeoutError as exc:
        raise Timeout(target.host, "connecting", timeout) from exc
    except OSError as exc:
        raise Unreachable(target.host, target.port, exc.strerror or str(exc)) from exc
    # Without it, Nagle holds a small write (a channel request, a window adjust) until the device's
    # delayed ACK: ~40 ms on every SSH exec round trip.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = paramiko.Transport(_QuickAck(sock))
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    if key_types:
        options = transport.get_security_options()
        wanted = [a for k in key_types for a in _KEY_ALGORITHMS.get(k, [k]) if a in options.key_types]
        options.key_types = wanted + [k for k in options.key_types if k not in wanted]
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        transport.close()
        raise Unreachable(target.host, target.port, f"SSH handshake failed: {exc or type(exc).__name__}") from exc
    return transport


LineHandler = Callable[[str], None]


def _run_blocking(transport: paramiko.Transport, command: str, stdin: bytes | None, timeout: float,
                  on_line: LineHandler | None = None) -> CommandResult:
    deadline = time.monotonic() + timeout
    chan = transport.open_session(timeout=timeout)
    try:
        chan.exec_command(command)
        if stdin:
            chan.sendall(stdin)
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        delivered = 0  # how much of ``out`` went to ``on_line``: whole lines only
        # Drain both streams as they come, so a chatty stderr cannot stall stdout's window.
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CommandTimeout(transport.getpeername()[0], f"command {command.split()[0]!r}", timeout)
            select.select([chan], [], [], remaining)
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
            if chan.recv_ready():
                out += chan.recv(65536)
                end = out.rfind(b"\n") + 1
                if on_line is not None and end > delivered:
                    for line in bytes(out[delivered:end - 1]).split(b"\n"):
                        on_line(line.decode(errors="replace"))
                    delivered = end
            elif chan.eof_received and not chan.recv_stderr_ready():
                break
            elif chan.closed:  # no EOF: select() would return at once forever, spinning a core
                if not transport.is_active():
                    raise EOFError("the connection was lost")
                break
        if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
            raise CommandTimeout(transport.getpeername()[0], f"command {command.split()[0]!r}", timeout)
        return CommandResult(chan.recv_exit_status(), out.decode(errors="replace"), err.decode(errors="replace"))
    finally:
        chan.close()


class SshConnection:
    """An open connection; use through ``connect()``."""

    def __init__(self, target: SshTarget, transport: paramiko.Transport, executor: ThreadPoolExecutor) -> None:
        self.target = target
        self.transport = transport  # for callers that need raw channels (e.g. docker dial-stdio)
        self._executor = executor
        self.host_key_fingerprint = fingerprint(transport.get_remote_server_key())

    async def _call(self, fn: Callable[..., T], *args: object, timeout: float) -> T:
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        try:
            return await asyncio.wait_for(future, timeout + 1.0)  # the blocking call has its own timeout
        except TimeoutError as exc:
            self.transport.close()  # unblocks the stuck thread
            raise Timeout(self.target.host, "SSH call", timeout) from exc

    async def run(self, command: str, *, stdin: bytes | None = None, timeout: float = 60.0,
                  on_line: LineHandler | None = None) -> CommandResult:
        """Run ``command`` in the login shell; never raises for a non-zero exit (see ``ok``).
        ``on_line`` is called on the event loop with each stdout line as it arrives."""
        relay = None
        if on_line is not None:
            loop = asyncio.get_running_loop()
            handler = on_line

            def relay(line: str) -> None:
                loop.call_soon_threadsafe(handler, line)
        try:
            return await self._call(_run_blocking, self.transport, command, stdin, timeout, relay, timeout=timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Unreachable(self.target.host, self.target.port, f"connection lost: {exc}") from exc

    async def start(self, command: str, *, timeout: float = DEFAULT_TIMEOUT) -> SshStream:
        """Start ``command`` in the login shell and keep talking to it (see ``SshStream``)."""
        def open_channel() -> paramiko.Channel:
            chan = self.transport.open_session(timeout=timeout)
            chan.exec_command(command)
            return chan

        try:
            chan = await self._call(open_channel, timeout=timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Unreachable(self.target.host, self.target.port, f"connection lost: {exc}") from exc
        return SshStream(self.target.host, chan, self._executor)

    async def sftp(self, timeout: float = DEFAULT_TIMEOUT) -> AsyncSftp:
        client = await self._call(paramiko.SFTPClient.from_transport, self.transport, timeout=timeout)
        if client is None:
            raise Unreachable(self.target.host, self.target.port, "the SFTP subsystem is not available")
        return AsyncSftp(client, self._call)

    def close(self) -> None:
        self.transport.close()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _close_made_transport(job: Future[paramiko.Transport]) -> None:
    if not job.cancelled() and job.exception() is None:
        job.result().close()


async def open_connection(target: SshTarget, trust: HostKeyTrust, *, timeout: float = DEFAULT_TIMEOUT) -> SshConnection:
    """Connect, verify the host key with ``trust``, authenticate; every step bounded by ``timeout``
    except a person's answer to ``trust.confirm``. The caller must ``close()`` the result."""
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"ssh-{target.host}")
    transport: paramiko.Transport | None = None

    async def step(fn: Callable[..., T], *args: object,
                   on_abandon: Callable[[Future[T]], object] | None = None) -> T:
        job = executor.submit(fn, *args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(job), timeout + 1.0)
        except BaseException as exc:
            if on_abandon is not None:  # the thread runs on: clean up after it, whenever it ends
                job.add_done_callback(on_abandon)
            if not isinstance(exc, TimeoutError):
                raise
            if transport is not None:
                transport.close()
            raise Timeout(target.host, "connecting", timeout) from exc

    try:
        known = trust.preferred_key_types(target.known_hosts_name)
        # Given up on (a cancelled scan, a timeout) while the handshake runs on in its thread, the
        # transport it makes has no owner: it is closed when made instead of living on as a thread.
        opened: paramiko.Transport = await step(_open_transport, target, timeout, known,
                                                on_abandon=_close_made_transport)
        transport = opened
        await trust.verify(target.known_hosts_name, opened.get_remote_server_key())
        await step(authenticate, opened, target)
        return SshConnection(target, opened, executor)
    except BaseException as exc:
        if transport is not None:
            transport.close()
        executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(exc, paramiko.SSHException | EOFError):
            raise Unreachable(target.host, target.port, f"connection lost: {exc}") from exc
        raise


@asynccontextmanager
async def connect(target: SshTarget, trust: HostKeyTrust, *, timeout: float = DEFAULT_TIMEOUT
                  ) -> AsyncIterator[SshConnection]:
    conn = await open_connection(target, trust, timeout=timeout)
    try:
        yield conn
    finally:
        conn.close()
