"""The Kuksa step's rollout choices: all at once, or in waves with a failure limit (``deploy --waves``).

The values are read by the engine's own parsers (core.deploy.waves), so the GUI takes exactly what
``--waves`` and ``--max-failed`` take, and a problem is shown under the field it is about.
"""

from __future__ import annotations

from sdv_studio.core.deploy.waves import MaxFailed, WavePlan, WavesInvalid, parse_max_failed, parse_waves, wave_sizes
from sdv_studio.gui.qt import Qt, QtWidgets, Signal
from sdv_studio.gui.widgets.common import Field

# The choices of the Waves box: its text and the waves it stands for (None: the custom field's).
ALL_AT_ONCE = "All at once"
CANARY = "Canary: 1, then the rest"
CUSTOM = "Custom waves"
PRESETS: dict[str, str | None] = {ALL_AT_ONCE: "", CANARY: "1,100%", CUSTOM: None}
MAX_PAUSE = 86400  # seconds, as the API allows
NO_WAVES = "Waves: enter where each wave ends, e.g. 1,25%,100%"


def parse_pause(text: str) -> float:
    """Seconds between waves, as ``--pause-between`` takes them (0 to a day)."""
    try:
        seconds = float(text.strip())
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_PAUSE:  # also NaN
        raise WavesInvalid(f"Pause {text.strip()}: expected seconds between waves, 0 to {MAX_PAUSE}")
    return seconds


class RolloutForm(QtWidgets.QWidget):
    """Waves, the failures a wave may have, the pause between waves, and rolling a failed wave back."""

    changed = Signal()  # a value changed: its errors (and the preview) are up to date

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._devices = 0  # how many are selected: the preview splits them
        self.form = form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)

        self.preset = QtWidgets.QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setAccessibleName("Waves")
        self.preset.setToolTip("Roll out wave after wave: a wave that has more failed devices than allowed "
                               "stops the rollout, and the later waves' devices are skipped, never touched")
        self.custom = QtWidgets.QLineEdit()
        self.custom.setPlaceholderText("e.g. 1,25%,100%")
        self.custom.setAccessibleName("Custom waves")
        self.custom.setToolTip("Where each wave ends, counted from the start: a number of devices or a "
                               "percentage of those selected; the last wave takes the rest")
        self.custom_field = Field(self.custom)
        waves = QtWidgets.QVBoxLayout()
        waves.setSpacing(6)
        waves.addWidget(self.preset)
        waves.addWidget(self.custom_field)
        form.addRow("Waves", waves)

        self.max_failed = QtWidgets.QLineEdit("0")
        self.max_failed.setAccessibleName("Max failed per wave")
        self.max_failed.setToolTip("Devices of one wave that may fail before the rollout stops: a count, "
                                   "or a percentage of the wave such as 20%")
        self.max_failed_field = Field(self.max_failed)
        self.pause = QtWidgets.QLineEdit("0")
        self.pause.setAccessibleName("Pause between waves")
        self.pause.setToolTip("Seconds to wait after a wave passes before the next one starts")
        self.pause_field = Field(self.pause)
        seconds = QtWidgets.QLabel("seconds")
        seconds.setObjectName("muted")
        seconds.setMinimumHeight(self.pause.sizeHint().height())  # beside the field, above its error
        pause = QtWidgets.QHBoxLayout()
        pause.setSpacing(8)
        pause.addWidget(self.pause_field, 1)
        pause.addWidget(seconds, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow("Max failed", self.max_failed_field)
        form.addRow("Pause", pause)

        self.rollback_wave = QtWidgets.QCheckBox("Roll back the failed wave")
        self.rollback_wave.setToolTip("When a wave stops the rollout, its devices that did update go back "
                                      "to the version they ran before (a scheduled update staged on them is "
                                      "cancelled)")
        self.preview = QtWidgets.QLabel()
        self.preview.setObjectName("muted")
        self.preview.setWordWrap(True)
        form.addRow("", self.rollback_wave)
        form.addRow(self.preview)
        self._in_waves = (self.max_failed, self.pause, self.rollback_wave)

        self.preset.currentTextChanged.connect(self._changed)
        self.custom.textChanged.connect(self._changed)
        self.max_failed.textChanged.connect(self._changed)
        self.pause.textChanged.connect(self._changed)
        self._changed()

    def set_devices(self, count: int) -> None:
        self._devices = count
        self._changed()

    def waves_text(self) -> str:
        """What --waves would say: empty for all at once."""
        preset = PRESETS[self.preset.currentText()]
        return self.custom.text().strip() if preset is None else preset

    def plan(self) -> WavePlan | None:
        """The wave plan for the engine; None for all at once. Raises WavesInvalid naming the field."""
        text = self.waves_text()
        if not text and PRESETS[self.preset.currentText()] is None:
            raise WavesInvalid(NO_WAVES)
        if not text:
            return None
        pause = parse_pause(self.pause.text())
        return WavePlan(parse_waves(text, "Waves"), parse_max_failed(self.max_failed.text(), "Max failed"),
                        pause, self.rollback_wave.isChecked())

    def show_plan(self, plan: WavePlan | None) -> None:
        """Fill the fields from ``plan`` (None: all at once, the defaults), a preset where one matches."""
        shown = plan or WavePlan([])
        text = ",".join(f"{r.percent:g}%" if r.percent is not None else str(r.count) for r in shown.reaches)
        preset = next((name for name, waves in PRESETS.items() if waves == text), CUSTOM)
        self.custom.setText(text if preset == CUSTOM else "")
        self.preset.setCurrentText(preset)
        self.max_failed.setText(str(shown.max_failed))
        self.pause.setText(f"{shown.pause_between:g}")
        self.rollback_wave.setChecked(shown.rollback_wave)

    def errors(self) -> list[str]:
        fields = (self.custom_field, self.max_failed_field, self.pause_field)
        return [error for error in (field.error_text() for field in fields) if error]

    def _changed(self) -> None:
        custom = PRESETS[self.preset.currentText()] is None
        self.custom_field.setVisible(custom)
        in_waves = bool(self.waves_text()) or custom
        for widget in self._in_waves:
            widget.setEnabled(in_waves)
        self.custom_field.set_error(self._waves_problem(custom))
        self.max_failed_field.set_error(self._max_failed_problem() if in_waves else None)
        self.pause_field.set_error(self._pause_problem() if in_waves else None)
        self.preview.setText(self._preview())
        self.changed.emit()

    def _waves_problem(self, custom: bool) -> str | None:
        if not custom:
            return None
        if not self.custom.text().strip():
            return NO_WAVES
        try:
            parse_waves(self.custom.text(), "Waves")
        except WavesInvalid as exc:
            return str(exc)
        return None

    def _max_failed_problem(self) -> str | None:
        try:
            parse_max_failed(self.max_failed.text(), "Max failed")
        except WavesInvalid as exc:
            return str(exc)
        return None

    def _pause_problem(self) -> str | None:
        try:
            parse_pause(self.pause.text())
        except WavesInvalid as exc:
            return str(exc)
        return None

    def _preview(self) -> str:
        """How the selected devices split into waves, and when a wave stops the rollout."""
        devices = f"{self._devices} device{'s' if self._devices != 1 else ''}"
        if self.errors() or not self._devices:
            return ""
        if not self.waves_text():
            return f"{devices}, all at once."
        sizes = wave_sizes(parse_waves(self.waves_text()), self._devices)
        limit = parse_max_failed(self.max_failed.text())
        stops = "any failure" if limit == MaxFailed(count=0) else f"more than {limit} failed"
        return (f"{devices} in {len(sizes)} wave{'s' if len(sizes) != 1 else ''} of "
                f"{', '.join(map(str, sizes))}; {stops} in a wave stops the rollout.")
