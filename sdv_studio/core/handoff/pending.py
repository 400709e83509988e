"""Hand-offs that arrived while the window was busy, shown one by one when it is idle again.

Bounded, and one per origin: a page that hands over again has changed its mind, so its newer
prototype replaces the one still waiting; when too many pages wait, the oldest is dropped.
"""

from __future__ import annotations

from collections import OrderedDict

from sdv_studio.core.handoff.request import Handoff

MAX_PENDING = 4


class PendingHandoffs:
    def __init__(self, limit: int = MAX_PENDING) -> None:
        self._limit = limit
        self._waiting: OrderedDict[str, Handoff] = OrderedDict()

    def put(self, handoff: Handoff) -> bool:
        """Queues ``handoff`` last; True when it replaced one from the same origin."""
        replaced = self._waiting.pop(handoff.origin, None) is not None
        self._waiting[handoff.origin] = handoff
        while len(self._waiting) > self._limit:
            self._waiting.popitem(last=False)
        return replaced

    def take(self) -> Handoff | None:
        """The longest waiting, or None."""
        if not self._waiting:
            return None
        return self._waiting.popitem(last=False)[1]

    def __len__(self) -> int:
        return len(self._waiting)
