"""SFTP on a connection's executor: the few file operations deployment needs, awaitable."""

from __future__ import annotations

import posixpath
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import paramiko

T = TypeVar("T")
Caller = Callable[..., Awaitable[Any]]


class AsyncSftp:
    def __init__(self, client: paramiko.SFTPClient, call: Caller, timeout: float = 300.0) -> None:
        self._client = client
        self._call = call
        self._timeout = timeout  # per operation; large uploads over slow links need minutes

    async def put(self, local: Path, remote: str) -> None:
        await self._call(self._client.put, str(local), remote, timeout=self._timeout)

    async def get(self, remote: str, local: Path) -> None:
        await self._call(self._client.get, remote, str(local), timeout=self._timeout)

    async def write_bytes(self, remote: str, data: bytes, mode: int = 0o644) -> None:
        def write() -> None:
            with self._client.open(remote, "wb") as f:
                f.write(data)
            self._client.chmod(remote, mode)

        await self._call(write, timeout=self._timeout)

    async def read_bytes(self, remote: str) -> bytes:
        def read() -> bytes:
            with self._client.open(remote, "rb") as f:
                return f.read()

        data: bytes = await self._call(read, timeout=self._timeout)
        return data

    async def makedirs(self, remote: str) -> None:
        """``mkdir -p``: relative paths start at the login user's home."""

        def make() -> None:
            parts = [p for p in remote.split("/") if p]
            path = "/" if remote.startswith("/") else ""
            for part in parts:
                path = posixpath.join(path, part) if path else part
                try:
                    if not stat.S_ISDIR(self._client.stat(path).st_mode or 0):
                        raise NotADirectoryError(path)
                except FileNotFoundError:
                    self._client.mkdir(path)

        await self._call(make, timeout=self._timeout)

    async def close(self) -> None:
        await self._call(self._client.close, timeout=10.0)
