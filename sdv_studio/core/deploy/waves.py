"""Rolling out in waves: ``--waves 1,25%,100%`` and ``--max-failed N|P%``.

Waves are cumulative: each step says how far the rollout has reached once that wave is done, as a
count of devices or a percentage of those selected. The last wave always reaches every device.
``--max-failed`` is how many devices of one wave may fail before the rollout stops. ``WavePlan`` is
what a deployment runs by (``deploy --waves``); the Ansible export writes the same sizes as ``serial``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sdv_studio.core.errors import InvalidInput

_COUNT = re.compile(r"^\d+$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


class WavesInvalid(InvalidInput):
    """A --waves or --max-failed value that cannot be read; the message names the option."""


@dataclass(frozen=True)
class Reach:
    """How far one wave reaches: a count of devices, or a percentage of those selected."""

    count: int | None = None
    percent: float | None = None

    @property
    def amount(self) -> float:
        """The number written, count or percentage: comparable with a reach of the same kind."""
        return self.count if self.count is not None else self.percent or 0.0

    def devices(self, total: int) -> int:
        """The devices reached of ``total``; a percentage is rounded up, so a wave is never empty."""
        if self.count is not None:
            return min(self.count, total)
        return min(total, max(1, math.ceil((self.percent or 0.0) * total / 100)))


def parse_waves(given: str | Sequence[str | int], option: str = "--waves") -> list[Reach]:
    """``1,25%,100%`` (or its items as a list): counts of at least 1 and percentages above 0 up to 100,
    each reaching further than the one before it of the same kind. Problems name ``option``."""
    text = given if isinstance(given, str) else ",".join(str(item) for item in given)
    reaches: list[Reach] = []
    for item in (part.strip() for part in text.split(",")):
        if _COUNT.match(item) and int(item) >= 1:
            reach = Reach(count=int(item))
        elif (match := _PERCENT.match(item)) and 0 < float(match[1]) <= 100:
            reach = Reach(percent=float(match[1]))
        else:
            raise WavesInvalid(f"{option} {text}: {item!r} is neither a count of devices (1 or more) nor a "
                               "percentage (above 0%, at most 100%), e.g. 1,25%,100%")
        same_kind = [r for r in reaches if (r.count is None) == (reach.count is None)]
        if same_kind and reach.amount <= same_kind[-1].amount:
            raise WavesInvalid(f"{option} {text}: {item!r} does not reach further than the wave before it "
                               "(waves are cumulative: 1,25%,100%)")
        reaches.append(reach)
    return reaches


def wave_sizes(reaches: list[Reach], total: int) -> list[int]:
    """How many devices each wave adds, for ``total`` selected devices: waves that would add none
    (``1,10%`` of 6 reaches 1 twice) are left out, and a last wave takes the devices no step reached."""
    sizes: list[int] = []
    reached = 0
    for reach in reaches:
        upto = reach.devices(total)
        if upto > reached:
            sizes.append(upto - reached)
            reached = upto
    if reached < total:
        sizes.append(total - reached)
    return sizes


@dataclass(frozen=True)
class MaxFailed:
    """How many devices of a wave may fail before the rollout stops: a count, or a percentage of the wave."""

    count: int | None = None
    percent: float | None = None

    def __str__(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else str(self.count or 0)

    def exceeded(self, failed: int, size: int) -> bool:
        """Whether ``failed`` of a wave's ``size`` devices is more than this allows."""
        if self.percent is not None:
            return failed * 100 > self.percent * size
        return failed > (self.count or 0)


def parse_max_failed(given: str | int, option: str = "--max-failed") -> MaxFailed:
    text = str(given)
    item = text.strip()
    if _COUNT.match(item):
        return MaxFailed(count=int(item))
    if (match := _PERCENT.match(item)) and float(match[1]) <= 100:
        return MaxFailed(percent=float(match[1]))
    raise WavesInvalid(f"{option} {text}: expected a count of devices (0 or more) or a percentage of "
                       "the wave (0% to 100%), e.g. 1 or 10%")


@dataclass(frozen=True)
class WavePlan:
    """How ``deploy --waves`` rolls out: wave after wave, each wave's devices in parallel."""

    reaches: list[Reach]
    max_failed: MaxFailed = MaxFailed(count=0)
    pause_between: float = 0.0  # seconds between the end of a wave and the start of the next
    rollback_wave: bool = False  # roll a failed wave's successful devices back

    def split(self, device_ids: Sequence[str]) -> list[list[str]]:
        """The devices in waves, in the order given (no waves at all for no devices)."""
        waves: list[list[str]] = []
        start = 0
        for size in wave_sizes(self.reaches, len(device_ids)) if device_ids else []:
            waves.append(list(device_ids[start:start + size]))
            start += size
        return waves
