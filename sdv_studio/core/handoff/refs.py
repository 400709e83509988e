"""Code a page left with the running app for a link to name (``sdv-studio://open?ref=…``): held
briefly, taken once, few at a time, so a page cannot fill the app's memory."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from sdv_studio.core.handoff.request import Handoff

REF_LIFETIME = 300.0  # seconds: a link is opened right after the page made it
MAX_HELD = 8


class HeldHandoffs:
    def __init__(self, lifetime: float = REF_LIFETIME, clock: Callable[[], float] = time.monotonic) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._held: OrderedDict[str, tuple[float, Handoff]] = OrderedDict()

    def put(self, handoff: Handoff) -> str:
        self._expire()
        while len(self._held) >= MAX_HELD:
            self._held.popitem(last=False)  # the oldest goes: its page has had its chance
        ref = secrets.token_urlsafe(24)
        self._held[ref] = (self._clock() + self._lifetime, handoff)
        return ref

    def take(self, ref: str) -> Handoff | None:
        """The hand-off ``ref`` names, once; None when unknown, taken or expired."""
        self._expire()
        held = self._held.pop(ref, None)
        return held[1] if held else None

    def _expire(self) -> None:
        now = self._clock()
        for ref in [ref for ref, (deadline, _) in self._held.items() if deadline <= now]:
            del self._held[ref]
