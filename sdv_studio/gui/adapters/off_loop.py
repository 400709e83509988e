"""An async stream run on an event loop of its own, in a thread, and taken on the GUI's loop in batches.

The GUI's loop is Qt's (qasync), where every asyncio wake-up goes through Qt's event dispatch. A
stream of many small messages (the Monitor's: 600 signal values a second from six devices, in as
many gRPC messages before the databroker gathered them, each through two queues) cost the GUI thread
more in those wake-ups than in drawing, and its bursts stalled the window. Here the stream runs on
a plain asyncio loop; what it yields waits in a list, and the GUI's loop is woken once for all that
arrived within GATHER.

The thread is started by the caller's thread, so it (and every connection it makes) lives in the
caller's network namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

# Seconds what arrives is gathered before the GUI's loop is woken for it: a wake-up per item, when
# the window is idle, cost more than the items (600 a second); a 30th of a second is not seen.
GATHER = 0.03
HELD_LIMIT = 10_000  # items waiting for the GUI; beyond, the stream waits (a stuck window loses nothing)
_FULL_WAIT = 0.05  # seconds the stream waits before looking again


class _Mailbox(Generic[T]):
    """Items from the stream's thread, waiting for the GUI's loop, and how the stream ended."""

    def __init__(self, gui: asyncio.AbstractEventLoop) -> None:
        self.gui = gui
        self.arrived = asyncio.Event()  # set on the GUI's loop only
        self._lock = threading.Lock()
        self._items: list[T] = []
        self.ended = False
        self.error: BaseException | None = None

    def put(self, item: T) -> bool:
        """True for the first item since the GUI's loop last took them: then a wake-up is due."""
        with self._lock:
            self._items.append(item)
            return len(self._items) == 1

    def end(self, error: BaseException | None) -> None:
        with self._lock:
            self.ended, self.error = True, error
        self.wake()

    def full(self) -> bool:
        with self._lock:
            return len(self._items) >= HELD_LIMIT

    def take(self) -> tuple[list[T], bool]:
        """What arrived, and whether the stream has ended (then nothing more will come)."""
        with self._lock:
            items, self._items = self._items, []
            return items, self.ended

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the GUI's loop has closed: nobody is waiting
            self.gui.call_soon_threadsafe(self.arrived.set)


async def batches(open_stream: Callable[[], AsyncGenerator[T, None]], name: str) -> AsyncGenerator[list[T], None]:
    """What ``open_stream()`` yields, in lists, as the GUI's loop gets to them; its failure is raised
    here. Leaving early cancels the stream on its own loop (its cleanup runs there, without the GUI
    waiting for it)."""
    mailbox: _Mailbox[T] = _Mailbox(asyncio.get_running_loop())
    loop = asyncio.new_event_loop()

    async def pump() -> None:
        error: BaseException | None = None
        try:
            stream = open_stream()
            async with contextlib.aclosing(stream):
                async for item in stream:
                    while mailbox.full():
                        await asyncio.sleep(_FULL_WAIT)
                    if mailbox.put(item):
                        loop.call_later(GATHER, mailbox.wake)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # handed to the GUI's side
            error = exc
        mailbox.end(error)

    task = loop.create_task(pump())  # scheduled here, run once the thread runs the loop

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(task)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        while True:
            await mailbox.arrived.wait()
            mailbox.arrived.clear()
            items, ended = mailbox.take()
            if items:
                yield items
            if ended:
                if mailbox.error is not None:
                    raise mailbox.error
                return
    finally:
        with contextlib.suppress(RuntimeError):  # the stream's loop has already closed
            loop.call_soon_threadsafe(task.cancel)
