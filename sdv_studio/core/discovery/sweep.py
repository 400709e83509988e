"""TCP-connect sweep of one port across IPv4 ranges, hits streamed as they arrive.

Every address is recorded in ``Sweep.attempted`` *before* a packet goes to it, so a caller
(and the tests) can prove the sweep stayed inside the ranges it was given.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

from sdv_studio.core.discovery.ranges import addresses, count

DEFAULT_CONCURRENCY = 256
# On a LAN a live host answers a SYN in milliseconds; silence for this long means nobody is there.
DEFAULT_TIMEOUT = 0.8
_START_BATCH = 32
BANNER_TIMEOUT = 0.5


@dataclass(frozen=True)
class SweepHit:
    ip: str
    port: int
    rtt: float  # seconds to connect
    banner: str | None  # the server's identification line, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"


class Sweep:
    def __init__(self, networks: Sequence[IPv4Network], port: int = 22, *,
                 concurrency: int = DEFAULT_CONCURRENCY, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.networks = list(networks)
        self.port = port
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.total = count(self.networks)
        self.attempted: list[str] = []  # every address a connection was started to, in order
        self.done = 0

    async def hits(self) -> AsyncIterator[SweepHit]:
        """Open ports, as soon as each answers; ends when every address was tried or timed out."""
        queue: asyncio.Queue[SweepHit | None] = asyncio.Queue()
        pending = addresses(self.networks)  # shared by the workers: each takes the next address

        async def worker() -> None:
            for address in pending:
                hit = await self._try(str(address))
                self.done += 1
                if hit is not None:
                    queue.put_nowait(hit)

        async def run() -> None:
            try:
                async with asyncio.TaskGroup() as group:
                    for index in range(min(self.concurrency, self.total)):
                        group.create_task(worker())
                        if index % _START_BATCH == _START_BATCH - 1:
                            # Each worker's first connect() runs when the loop next turns: start them
                            # in batches so a GUI sharing the loop never waits on hundreds at once.
                            await asyncio.sleep(0)
            finally:
                queue.put_nowait(None)

        runner = asyncio.create_task(run())
        try:
            while (hit := await queue.get()) is not None:
                yield hit
            await runner  # re-raise a worker's unexpected error
        finally:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner

    async def _try(self, ip: str) -> SweepHit | None:
        loop = asyncio.get_running_loop()
        self.attempted.append(ip)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            start = loop.time()
            try:
                await asyncio.wait_for(loop.sock_connect(sock, (ip, self.port)), self.timeout)
            except (TimeoutError, OSError):
                return None  # closed, filtered or nobody there
            rtt = loop.time() - start
            return SweepHit(ip, self.port, rtt, await self._banner(sock))
        finally:
            sock.close()

    @staticmethod
    async def _banner(sock: socket.socket) -> str | None:
        """SSH servers speak first; their line tells an sshd from any other listener."""
        try:
            data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 255), BANNER_TIMEOUT)
        except (TimeoutError, OSError):
            return None
        line = data.split(b"\n", 1)[0].strip()
        return line.decode(errors="replace") if line.startswith(b"SSH-") else None
