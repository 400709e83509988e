"""Rolling a deployment out in waves: which devices go together, and when a wave stops the rollout.

``--waves 1,25%,100%`` gives where each wave ends, cumulatively, as a count or a percentage of the
selected devices: with 8 devices, wave 1 is the first device, wave 2 the next one (25% of 8 is 2),
wave 3 the remaining 6. ``--max-failed N|P%`` is how many of one wave's devices may fail before the
rollout stops (default 0: any failure stops it); devices of later waves are then skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sdv_studio.core.errors import InvalidInput

_SHARE = re.compile(r"(\d{1,9})(%?)")


@dataclass(frozen=True)
class Share:
    """A count of devices, or a percentage of them."""

    value: int
    percent: bool = False

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


def _share(text: str, option: str) -> Share:
    match = _SHARE.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(f"{option}: {text.strip()!r} is not a count (e.g. 2) or a percentage (e.g. 25%)")
    value, percent = int(match[1]), bool(match[2])
    if percent and value > 100:
        raise InvalidInput(f"{option}: {text.strip()} is more than 100%")
    return Share(value, percent)


def parse_waves(text: str | Sequence[str | int], option: str = "--waves") -> tuple[Share, ...]:
    """Where each wave ends, from ``"1,25%,100%"`` (or its items as a list); InvalidInput naming ``option``."""
    items = text.split(",") if isinstance(text, str) else [str(item) for item in text]
    if not items or items == [""]:
        raise InvalidInput(f"{option}: give at least one wave, e.g. 1,25%,100%")
    ends: list[Share] = []
    for number, item in enumerate(items, 1):
        if not item.strip():
            raise InvalidInput(f"{option}: wave {number} is empty")
        end = _share(item, option)
        if end.value == 0:
            raise InvalidInput(f"{option}: wave {number} ({end}) has no devices")
        # Counts and percentages only compare once the devices are known; like with like, now.
        before = [e for e in ends if e.percent == end.percent]
        if before and end.value <= before[-1].value:
            raise InvalidInput(f"{option}: wave {number} ({end}) must end after wave {len(ends)} ({ends[-1]}): "
                               "the waves are cumulative")
        ends.append(end)
    return tuple(ends)


def parse_max_failed(text: str | int, option: str = "--max-failed") -> Share:
    """How many devices of one wave may fail, from ``"2"`` or ``"20%"``."""
    return _share(str(text), option)


@dataclass(frozen=True)
class WavePlan:
    ends: tuple[Share, ...]
    max_failed: Share = Share(0)
    pause_between: float = 0.0  # seconds between the end of a wave and the start of the next
    rollback_wave: bool = False  # roll a failed wave's successful devices back

    def split(self, device_ids: Sequence[str]) -> list[list[str]]:
        """The devices in waves, in the order given. A wave that would hold no device is left out
        (25% of 3 devices ends where wave 1 already did); devices past the last wave form one more."""
        total = len(device_ids)
        waves: list[list[str]] = []
        start = 0
        for end in self.ends:
            stop = min(total, math.ceil(end.value * total / 100) if end.percent else end.value)
            if stop > start:
                waves.append(list(device_ids[start:stop]))
                start = stop
        if start < total:
            waves.append(list(device_ids[start:]))
        return waves

    def exceeded(self, failed: int, size: int) -> bool:
        """Whether ``failed`` of a wave's ``size`` devices is more than ``max_failed`` allows."""
        if self.max_failed.percent:
            return failed * 100 > self.max_failed.value * size
        return failed > self.max_failed.value
