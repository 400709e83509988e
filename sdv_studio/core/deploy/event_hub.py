"""An append-only event log that any number of readers follow from the start.

A WebSocket client that connects late, the GUI and the CLI all see every event of a
deployment, in order, without the producer knowing who listens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")


class EventHub(Generic[T]):
    def __init__(self) -> None:
        self._events: list[T] = []
        self._closed = False
        self._changed = asyncio.Condition()

    async def publish(self, event: T) -> None:
        async with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    async def close(self) -> None:
        async with self._changed:
            self._closed = True
            self._changed.notify_all()

    async def follow(self) -> AsyncIterator[T]:
        """Every event from the first, then new ones as they come, until the hub closes."""
        index = 0

        def ready() -> bool:
            return index < len(self._events) or self._closed

        while True:
            async with self._changed:
                await self._changed.wait_for(ready)
                batch = self._events[index:]
                done = self._closed
            for event in batch:
                yield event
            index += len(batch)
            if done and index >= len(self._events):
                return
