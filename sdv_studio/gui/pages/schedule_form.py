"""The Kuksa step's start choice: now, or a scheduled update the device starts on its own when the vehicle
is idle or within a daily time window (``deploy --when idle [--idle CONDITION]``, ``--at HH:MM-HH:MM``).

The values go through the engine's own parser and package checks (core.deploy.schedule), so the GUI takes
exactly what the CLI takes and refuses what it refuses (a docker package: the device's agent stages native
apps; a signal not in the package's VSS catalogue), each problem under the field it names.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sdv_studio.core.deploy.schedule import (
    CATALOGUE_ENTRY,
    DEFAULT_IDLE,
    Schedule,
    ScheduleFields,
    check_schedule,
    parse_schedule,
)
from sdv_studio.core.errors import InvalidInput
from sdv_studio.gui.qt import QtWidgets, Signal
from sdv_studio.gui.widgets.common import Field

NOW = "Now"
IDLE = "When the vehicle is idle"
WINDOW = "In a time window"
FIELDS = ScheduleFields(when="Start", idle="Idle condition", at="Time window")
NOTES = {
    NOW: "Each device starts the new version once it is installed.",
    IDLE: "Installed now; each device starts it once this holds on its databroker.",
    WINDOW: "Installed now; each device starts it within the window, in the device's local time.",
}


def package_catalogue(path: Path, manifest: Mapping[str, Any]) -> bytes:
    """The VSS catalogue the device's databroker loads for this package (what ``--idle`` is checked against):
    the package's own, else the release its manifest names."""
    from sdv_studio.core.deploy.kuksa_wiring import broker_catalogue

    own = None
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.removeprefix("./") == CATALOGUE_ENTRY:
                handle = tar.extractfile(member)
                own = handle.read() if handle is not None else None
                break
    return broker_catalogue(dict(manifest), own)[0]


class ScheduleForm(QtWidgets.QWidget):
    """Start now, when an idle condition holds, or in a time window; checked against the package to deploy."""

    changed = Signal()  # a value changed: its errors are up to date

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._manifest: Mapping[str, Any] | None = None
        self._catalogue: Callable[[], bytes] = lambda: b"{}"
        column = QtWidgets.QVBoxLayout(self)  # a form's "Start" row: the label is the form's
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)

        self.start = QtWidgets.QComboBox()
        self.start.addItems(list(NOTES))
        self.start.setAccessibleName("Start")
        self.start.setToolTip("A scheduled update installs the new version now and leaves starting it to each "
                              "device: the version before keeps running until then")
        self.start_field = Field(self.start)
        self.idle = QtWidgets.QLineEdit(DEFAULT_IDLE)
        self.idle.setAccessibleName("Idle condition")
        self.idle.setToolTip("VSS signals compared with a number, true/false or a quoted string, joined by and; "
                             "==, !=, <, <=, >, >=. e.g. Vehicle.Speed == 0 and "
                             "Vehicle.Powertrain.Transmission.SelectedGear == 0. The device reads them from the "
                             "databroker the app is wired to, and starts the new version through the same health "
                             "check and roll back")
        self.idle_field = Field(self.idle)
        self.time_window = QtWidgets.QLineEdit()
        self.time_window.setPlaceholderText("HH:MM-HH:MM, e.g. 02:00-04:00")
        self.time_window.setAccessibleName("Time window")
        self.time_window.setToolTip("A daily window in the device's local time: the start included, the end not; "
                                    "it may cross midnight, e.g. 23:00-01:00")
        self.window_field = Field(self.time_window)
        self.note = QtWidgets.QLabel()
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        for widget in (self.start_field, self.idle_field, self.window_field, self.note):
            column.addWidget(widget)

        self.start.currentTextChanged.connect(self._changed)
        self.idle.textChanged.connect(self._changed)
        self.time_window.textChanged.connect(self._changed)
        self._changed()

    def set_package(self, manifest: Mapping[str, Any] | None, catalogue: Callable[[], bytes]) -> None:
        """The package the schedule is for: its manifest (runtime) and, read when a condition needs it, its
        VSS catalogue. None: nothing to check against yet."""
        self._manifest, self._catalogue = manifest, catalogue
        self._changed()

    def schedule(self) -> Schedule | None:
        """The engine's schedule (None: start now); InvalidInput naming the field, as the parser words it."""
        choice = self.start.currentText()
        return parse_schedule("idle" if choice == IDLE else None, self.idle.text().strip() if choice == IDLE else None,
                              self.time_window.text().strip() if choice == WINDOW else None, FIELDS)

    def show_schedule(self, schedule: Schedule | None) -> None:
        """Fill the fields from ``schedule`` (None: now, the default condition)."""
        self.idle.setText(schedule.idle if schedule and schedule.idle else DEFAULT_IDLE)
        self.time_window.setText(schedule.window if schedule and schedule.window else "")
        self.start.setCurrentText(NOW if schedule is None else IDLE if schedule.idle else WINDOW)

    def errors(self) -> list[str]:
        fields = (self.start_field, self.idle_field, self.window_field)
        return [error for error in (field.error_text() for field in fields) if error]

    def _changed(self) -> None:
        choice = self.start.currentText()
        self.idle_field.setVisible(choice == IDLE)
        self.window_field.setVisible(choice == WINDOW)
        self.note.setText(NOTES[choice])
        problems = self._problems()
        for field, name in ((self.idle_field, FIELDS.idle), (self.window_field, FIELDS.at)):
            field.set_error("\n".join(p for p in problems if p.startswith(f"{name}:")) or None)
        named = (f"{FIELDS.idle}:", f"{FIELDS.at}:")
        self.start_field.set_error("\n".join(p for p in problems if not p.startswith(named)) or None)
        self.changed.emit()

    def _problems(self) -> list[str]:
        """What the parser, then the package, says against the fields."""
        try:
            schedule = self.schedule()
        except InvalidInput as exc:
            return exc.problems
        if schedule is None or self._manifest is None:
            return []
        return check_schedule(schedule, self._manifest, self._catalogue() if schedule.idle else b"{}", FIELDS)
