"""A build's stages with their progress values and messages, as a deployment has its own (core.deploy.stages).

Checking the inputs comes before the first stage: invalid input fails with its problems alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class BuildStage(Enum):
    PLAN = ("plan", 5, "planning the package")
    WHEELS = ("wheels", 25, "gathering wheels")
    SUPPORT = ("support", 50, "adding support files")
    WRITE = ("write", 85, "writing the package")

    def __init__(self, key: str, progress: int, message: str) -> None:
        self.key = key
        self.progress = progress
        self.message = message


@dataclass(frozen=True)
class BuildProgress:
    """One line of a build's progress: the stage's own message when it starts, then what it is doing."""

    stage: BuildStage
    message: str


StageProgress = Callable[[BuildProgress], None]
LineProgress = Callable[[str], None]  # the steps' own lines (wheels, vehicle model, VSS overlays, top-up)


def entered(stage: BuildStage, progress: StageProgress) -> LineProgress:
    """Reports that ``stage`` started; returns where its steps report their lines."""
    progress(BuildProgress(stage, stage.message))
    return lambda message: progress(BuildProgress(stage, message))
