"""The Deploy page's waves: a group per wave of the engine's plan, its state from the engine's wave events."""

from __future__ import annotations

from dataclasses import dataclass

from sdv_studio.gui.qt import QtWidgets
from sdv_studio.gui.widgets.common import restyle
from sdv_studio.models.deployment import WaveStatus

# A wave's state in words, and the kind of chip it is shown in (theme: #waveState[kind=…]).
STATES: dict[str, tuple[str, str]] = {
    "pending": ("Waiting", "waiting"),
    "in-progress": ("Deploying", "active"),
    "completed": ("Passed", "ok"),
    "failed": ("Stopped: threshold exceeded", "error"),
    "cancelled": ("Cancelled", "muted"),
    "skipped": ("Skipped", "muted"),
}


@dataclass
class WaveGroup:
    """One wave of a run, as the engine reported it last."""

    deployment_id: str
    index: int
    waves: int  # how many waves its run has
    devices: list[str]  # device ids, in the order the engine gave them
    allowed: str  # how many of them may fail (a count or a percentage), as the rollout said
    status: WaveStatus = "pending"
    failed: int = 0
    retry: int = 0  # 0 for the page's first run in waves, then 1, 2, … for retries

    @property
    def key(self) -> tuple[str, int]:
        return self.deployment_id, self.index

    def title(self) -> str:
        wave = f"Wave {self.index} of {self.waves}"
        return f"Retry {self.retry} · {wave.lower()}" if self.retry else wave

    def detail(self) -> str:
        size = len(self.devices)
        devices = f"{size} device{'s' if size != 1 else ''}"
        if self.failed:
            return f"{devices} · {self.failed} failed, {self.allowed} allowed"
        return f"{devices} · at most {self.allowed} may fail" if self.status in ("pending", "in-progress") else devices

    def state(self) -> tuple[str, str]:
        return STATES[self.status]

    def log_line(self, names: dict[str, str]) -> str:
        """The wave's change, for the live log; ``names``: device id → the name shown."""
        name = self.title()
        devices = ", ".join(names.get(device_id, device_id) for device_id in self.devices)
        if self.status == "in-progress":
            return f"{name} started: {devices}"
        if self.status == "failed":
            return f"{name} stopped the rollout: {self.failed} of {len(self.devices)} failed"
        if self.status == "skipped":
            return f"{name} skipped: {devices}"
        return f"{name} {self.state()[0].lower()}" + (f" ({self.failed} failed, within the limit)"
                                                      if self.failed else "")


class WaveHeader(QtWidgets.QFrame):
    """A wave's row above its devices: its name and size on the left, its state on the right."""

    def __init__(self, group: WaveGroup, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("waveHeader")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(10, 0, 12, 0)
        row.setSpacing(10)
        self.title = QtWidgets.QLabel(group.title())
        self.title.setObjectName("waveTitle")
        self.detail = QtWidgets.QLabel()
        self.detail.setObjectName("muted")
        self.chip = QtWidgets.QLabel()
        self.chip.setObjectName("waveState")
        row.addWidget(self.title)
        row.addWidget(self.detail)
        row.addStretch()
        row.addWidget(self.chip)
        self.show_group(group)

    def show_group(self, group: WaveGroup) -> None:
        text, kind = group.state()
        self.detail.setText(group.detail())
        self.chip.setText(text)
        self.setAccessibleName(f"{group.title()}: {text}")
        if self.chip.property("kind") != kind:
            self.chip.setProperty("kind", kind)
            restyle(self.chip)
