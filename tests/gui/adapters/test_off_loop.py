"""A stream run on a loop of its own, taken in batches: everything in order, failures raised, leaving
early stops it there."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncGenerator

import pytest

from sdv_studio.gui.adapters.off_loop import batches


async def _take_all(stream: AsyncGenerator[list[int], None]) -> list[list[int]]:
    return [batch async for batch in stream]


def test_every_item_arrives_in_order_from_another_thread_in_fewer_wakeups() -> None:
    threads: set[str] = set()

    async def counting() -> AsyncGenerator[int, None]:
        for i in range(2000):
            threads.add(threading.current_thread().name)
            yield i
            if i % 100 == 0:
                await asyncio.sleep(0.001)

    taken = asyncio.run(_take_all(batches(counting, "counting")))
    assert [i for batch in taken for i in batch] == list(range(2000))
    assert threads == {"counting"}  # the stream ran on its own thread, not the caller's
    assert len(taken) < 2000  # items that arrived together came in one batch


def test_a_failure_of_the_stream_is_raised_after_what_came_before() -> None:
    async def failing() -> AsyncGenerator[int, None]:
        yield 1
        yield 2
        raise ValueError("the databroker went away")

    seen: list[int] = []

    async def take() -> None:
        async for batch in batches(failing, "failing"):
            seen.extend(batch)

    with pytest.raises(ValueError, match="went away"):
        asyncio.run(take())
    assert seen == [1, 2]


def test_leaving_early_cancels_the_stream_on_its_own_loop() -> None:
    cleaned = threading.Event()
    where: list[str] = []

    async def endless() -> AsyncGenerator[int, None]:
        try:
            i = 0
            while True:
                i += 1
                yield i
                await asyncio.sleep(0.01)
        finally:
            where.append(threading.current_thread().name)
            cleaned.set()

    async def take_three() -> int:
        stream = batches(endless, "endless")
        taken = 0
        async with contextlib.aclosing(stream):
            async for batch in stream:
                taken += len(batch)
                if taken >= 3:
                    break
        return taken

    assert asyncio.run(take_three()) >= 3
    assert cleaned.wait(5), "the stream was left running"
    assert where == ["endless"]


def test_a_reader_that_does_not_take_holds_the_stream_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from sdv_studio.gui.adapters import off_loop

    monkeypatch.setattr(off_loop, "HELD_LIMIT", 300)
    made = 0
    first: list[int] = []

    async def fast() -> AsyncGenerator[int, None]:
        nonlocal made
        while True:
            made += 1
            yield made
            await asyncio.sleep(0)

    async def stall() -> None:
        stream = batches(fast, "fast")
        async with contextlib.aclosing(stream):
            async for batch in stream:
                first.extend(batch)
                time.sleep(0.5)  # the GUI's loop busy: the stream fills what it may hold, then waits
                return

    asyncio.run(stall())
    assert 300 <= made - len(first) <= 301
