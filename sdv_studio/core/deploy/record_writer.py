"""Saving a deployment in flight without holding up its event loop.

With 48 devices, every device's install stage asked for a save of the whole record, each written on
the event loop: at 48 devices that was the loop's biggest cost (bench/scale.py's profile), and a
stall of every device's progress and of the desktop app's window. Here the record is encoded on the
loop (a consistent snapshot) and written by a thread; the saves asked for while one is written are
done together by the next one ("group commit"), so a burst of installs costs two writes, not 48.
"""

from __future__ import annotations

import asyncio

from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.models.deployment import Deployment


class RecordWriter:
    def __init__(self, records: DeploymentRecords, deployment: Deployment) -> None:
        self._records = records
        self._deployment = deployment
        self._asked = 0  # saves asked for so far
        self._written = 0  # of those, how many a finished write covered
        self._one_at_a_time = asyncio.Lock()
        self._in_flight: set[asyncio.Future[None]] = set()
        self.writes = 0

    def save(self) -> asyncio.Future[None]:
        """Save (await it, or not); it is done once a snapshot of the record taken after this call is
        on disk. A caller cancelled meanwhile leaves its write to finish: two writes never race, so an
        older snapshot never replaces a newer one."""
        self._asked += 1
        write = asyncio.ensure_future(self._save_upto(self._asked))
        self._in_flight.add(write)
        write.add_done_callback(self._in_flight.discard)
        return asyncio.shield(write)

    async def _save_upto(self, asked: int) -> None:
        async with self._one_at_a_time:
            if self._written >= asked:
                return  # the write that just ended began after this save was asked for: it covered it
            covered = self._asked
            data = self._records.encode(self._deployment)
            await asyncio.to_thread(self._records.write, self._deployment.deployment_id, data)
            self.writes += 1
            self._written = covered
