"""Writing files to a device over SFTP on an already verified connection."""

from __future__ import annotations

import asyncio
import posixpath
import stat
import time
from collections.abc import Sequence

import paramiko

from sdv_studio.core.deploy.local import LocalConnection
from sdv_studio.core.ssh.connection import SshConnection


def _makedirs(sftp: paramiko.SFTPClient, folder: str, made: set[str]) -> None:
    missing = []
    while folder not in ("", "/") and folder not in made:
        try:
            if stat.S_ISDIR(sftp.stat(folder).st_mode or 0):
                break
            raise OSError(f"{folder} exists and is not a folder")
        except FileNotFoundError:
            missing.append(folder)
            folder = posixpath.dirname(folder)
    for path in reversed(missing):
        sftp.mkdir(path)
        made.add(path)


_CHUNK = 256 * 1024


class _Progress:
    """When the upload last moved: a pipelined write returns once the bytes are handed to the socket,
    so a dead link shows as a write that stops returning."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def tick(self) -> None:
        self.last = time.monotonic()


def _upload_blocking(conn: SshConnection, files: Sequence[tuple[bytes, str]], mode: int, progress: _Progress) -> int:
    sftp = paramiko.SFTPClient.from_transport(conn.transport)
    if sftp is None:
        raise OSError("the device offers no SFTP subsystem")
    sent = 0
    made: set[str] = set()
    try:
        for data, path in files:
            _makedirs(sftp, posixpath.dirname(path), made)
            with sftp.open(path, "wb") as handle:
                handle.set_pipelined(True)  # don't wait for an ack per 32 KiB block
                for offset in range(0, len(data), _CHUNK):
                    handle.write(data[offset:offset + _CHUNK])
                    progress.tick()
            sftp.chmod(path, mode)
            progress.tick()
            sent += len(data)
    finally:
        sftp.close()
    return sent


def _write_local(conn: LocalConnection, files: Sequence[tuple[bytes, str]], mode: int) -> int:
    for data, path in files:
        conn.write(data, path, mode)
    return sum(len(data) for data, _ in files)


class TransferStalled(Exception):
    pass


async def upload_files(conn: SshConnection | LocalConnection, files: Sequence[tuple[bytes, str]], *,
                       mode: int = 0o644, stall: float = 20.0) -> int:
    """Write each (content, absolute path), creating folders; returns the bytes sent.

    The transport's socket already exists, so a worker thread in any network namespace can use it."""
    if not files:
        return 0
    if isinstance(conn, LocalConnection):
        return await asyncio.to_thread(_write_local, conn, files, mode)
    progress = _Progress()
    upload = asyncio.ensure_future(asyncio.to_thread(_upload_blocking, conn, files, mode, progress))
    stalled = False
    while not upload.done():
        await asyncio.wait({upload}, timeout=min(1.0, stall / 4))
        if not upload.done() and time.monotonic() - progress.last > stall:
            # paramiko retries a blocked socket write forever; closing the transport makes it fail.
            stalled = True
            conn.close()
            await asyncio.wait({upload})
    try:
        return upload.result()
    except (TimeoutError, EOFError, OSError, paramiko.SSHException) as exc:
        conn.close()  # the connection is no use after a half-written file
        total = sum(len(data) for data, _ in files)
        why = f"no progress for {stall:g}s" if stalled else str(exc) or type(exc).__name__
        raise TransferStalled(f"{conn.target.label}: the transfer stopped ({why}) while sending {total} bytes; "
                              "check the device's network") from exc
