"""Writing files to a device over SFTP on an already verified connection."""

from __future__ import annotations

import asyncio
import posixpath
import stat
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


def _upload_blocking(conn: SshConnection, files: Sequence[tuple[bytes, str]], mode: int, stall: float) -> int:
    sftp = paramiko.SFTPClient.from_transport(conn.transport)
    if sftp is None:
        raise OSError("the device offers no SFTP subsystem")
    # A cable pulled mid-transfer shows as writes that stop progressing: give up after ``stall``
    # seconds without progress instead of waiting for TCP to time out.
    channel = sftp.get_channel()
    if channel is not None:
        channel.settimeout(stall)
    sent = 0
    made: set[str] = set()
    try:
        for data, path in files:
            _makedirs(sftp, posixpath.dirname(path), made)
            with sftp.open(path, "wb") as handle:
                handle.set_pipelined(True)  # don't wait for an ack per 32 KiB block
                handle.write(data)
            sftp.chmod(path, mode)
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
    try:
        return await asyncio.to_thread(_upload_blocking, conn, files, mode, stall)
    except (TimeoutError, EOFError, OSError, paramiko.SSHException) as exc:
        conn.close()  # the connection is no use after a half-written file
        total = sum(len(data) for data, _ in files)
        raise TransferStalled(f"{conn.target.label}: the transfer stopped ({exc or type(exc).__name__}) after "
                              f"no progress for {stall:g}s of {total} bytes; check the device's network") from exc
