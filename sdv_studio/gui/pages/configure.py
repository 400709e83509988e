"""Step 1: the app's code and its settings, checked as you type with the packager's own rules."""

from __future__ import annotations

from pathlib import Path

from sdv_studio.gui import samples
from sdv_studio.gui.adapters import packager
from sdv_studio.gui.context import Context
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets
from sdv_studio.gui.settings import CONFIGURE_FOLDER, CONFIGURE_PYTHON, CONFIGURE_RUNTIME, CONFIGURE_VSS, Settings
from sdv_studio.gui.widgets.code_editor import CodeEditor
from sdv_studio.gui.widgets.common import Card, Field, button, shortcut
from sdv_studio.models.package import PYTHONS

# The first choice carries wheels for every Python SDV Studio targets: one package for a mixed fleet.
ANY_PYTHON = f"Any ({PYTHONS[0]}–{PYTHONS[-1]})"
VSS_VERSIONS = ("4.0", "6.0")


class ConfigurePage(Page):
    title = "Configure"
    subtitle = "Your vehicle app and how it should run. Open a file, a project folder or a playground export."
    icon = "configure"
    next_label = "Build package"

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setAcceptDrops(True)
        self._source = packager.from_text(samples.PLAYGROUND_DEFAULT, samples.DEFAULT_NAME)
        self._name_edited = False
        self._last_folder = str(Path.home())
        self._check_timer = QtCore.QTimer(self, singleShot=True, interval=200)
        self._check_timer.timeout.connect(self.check)

        outer = QtWidgets.QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(16)
        outer.addWidget(self._code_card(), 3)
        outer.addWidget(self._settings_panel(), 2)

        self.editor.setPlainText(samples.PLAYGROUND_DEFAULT)
        self.name.setText(samples.DEFAULT_NAME)
        self.description.setText(samples.DEFAULT_DESCRIPTION)
        self.description.setCursorPosition(0)
        self._name_edited = False
        self._show_source()
        self.check()

    # -- layout ---------------------------------------------------------------------------

    def _code_card(self) -> QtWidgets.QWidget:
        card = Card()
        bar = QtWidgets.QHBoxLayout()
        bar.setSpacing(8)
        self.source_label = QtWidgets.QLabel()
        self.source_label.setObjectName("cardTitle")
        self.source_kind = QtWidgets.QLabel()
        self.source_kind.setObjectName("muted")
        bar.addWidget(self.source_label)
        bar.addWidget(self.source_kind)
        bar.addStretch()
        self.open_file_btn = button("Open file…", "file", tip="Open a .py file or a playground .json export (Ctrl+O)")
        self.open_folder_btn = button("Open folder…", "folder", tip="Open a project folder (Ctrl+Shift+O)")
        self.paste_btn = button("Paste", "paste", tip="Replace the app with code or a playground export "
                                                       "from the clipboard (Ctrl+Shift+V)")
        for btn in (self.open_file_btn, self.open_folder_btn, self.paste_btn):
            bar.addWidget(btn)
        self.open_file_btn.clicked.connect(self.open_file)
        self.open_folder_btn.clicked.connect(self.open_folder)
        self.paste_btn.clicked.connect(self.paste)
        card.body.addLayout(bar)
        self.editor = CodeEditor()
        self.editor.setAccessibleName("App code")
        self.editor.textChanged.connect(self._check_timer.start)
        self.editor.filesDropped.connect(lambda paths: self.load_path(Path(paths[0])))
        card.body.addWidget(self.editor, 1)
        self.code_status = QtWidgets.QLabel()
        self.code_status.setObjectName("fieldError")
        self.code_status.setWordWrap(True)
        self.code_status.hide()
        card.body.addWidget(self.code_status)
        for key, slot in (("Ctrl+O", self.open_file), ("Ctrl+Shift+O", self.open_folder),
                          ("Ctrl+Shift+V", self.paste)):
            shortcut(QtGui.QKeySequence(key), self, slot, Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return card

    def _settings_panel(self) -> QtWidgets.QWidget:
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(360)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QtWidgets.QWidget()
        inner.setObjectName("content")
        col = QtWidgets.QVBoxLayout(inner)
        col.setContentsMargins(0, 0, 6, 0)
        col.setSpacing(12)
        self.fields: dict[str, Field] = {}

        def line(key: str, placeholder: str, tip: str) -> QtWidgets.QLineEdit:
            edit = QtWidgets.QLineEdit()
            edit.setPlaceholderText(placeholder)
            edit.setToolTip(tip)
            edit.setAccessibleName(key)
            edit.textChanged.connect(self._check_timer.start)
            self.fields[key] = Field(edit)
            return edit

        app = Card("App")
        form = self._form(app)
        self.name = line("name", "lowercase-with-hyphens", "Lowercase letters, digits and hyphens")
        self.name.textEdited.connect(lambda _t: setattr(self, "_name_edited", True))
        self.version = line("version", "1.0.0", "Semantic version x.y.z")
        self.description = QtWidgets.QLineEdit()
        self.description.setPlaceholderText("What the app does")
        form.addRow("Name", self.fields["name"])
        form.addRow("Version", self.fields["version"])
        form.addRow("Description", self.description)
        col.addWidget(app)

        run = Card("Runtime")
        form = self._form(run)
        self.runtime = QtWidgets.QComboBox()
        self.runtime.addItem("Native (own virtualenv)", "native")
        self.runtime.addItem("Docker container", "docker")
        self.python = QtWidgets.QComboBox()
        self.python.addItem(ANY_PYTHON, list(PYTHONS))
        for version in PYTHONS:
            self.python.addItem(version, [version])
        self.python.setToolTip("The device Pythons the package carries wheels for; Deploy adds a chosen "
                               "device's Python when the package lacks it")
        self.memory = line("memory", "512MB", "Memory limit, at least 128MB (e.g. 512MB, 1GB)")
        self.cpu = line("cpu", "0.5", "CPU cores, at least 0.1 (e.g. 0.5 or 500m)")
        form.addRow("Runtime", self.runtime)
        form.addRow("Python", self.python)
        form.addRow("Memory", self.fields["memory"])
        form.addRow("CPU cores", self.fields["cpu"])
        col.addWidget(run)

        kuksa = Card("KUKSA databroker")
        form = self._form(kuksa)
        self.auto_detect = QtWidgets.QCheckBox("Detect a databroker on the devices")
        self.auto_detect.setChecked(True)
        self.auto_detect.setToolTip("Each device's app uses a databroker found on it unless the Kuksa step names one")
        self.fallback = QtWidgets.QCheckBox("Fall back to the embedded broker")
        self.fallback.setToolTip("Start SDV Studio's own databroker (and MQTT) on a device that has none")
        self.fallback.setChecked(True)
        self.vss = QtWidgets.QComboBox()
        self.vss.addItems(VSS_VERSIONS)
        form.addRow(self.auto_detect)
        form.addRow(self.fallback)
        form.addRow("VSS version", self.vss)
        col.addWidget(kuksa)

        sec = Card("Security")
        form = self._form(sec)
        self.sandbox = QtWidgets.QComboBox()
        self.sandbox.addItems(["basic", "advanced", "military"])
        self.data_access = QtWidgets.QComboBox()
        self.data_access.addItems(["open", "restricted", "encrypted"])
        self.data_access.setCurrentText("restricted")
        self.inter_app = QtWidgets.QCheckBox("Allow communication with other apps")
        form.addRow("Sandbox", self.sandbox)
        form.addRow("Data access", self.data_access)
        form.addRow(self.inter_app)
        col.addWidget(sec)
        col.addStretch()

        self.memory.setText("512MB")
        self.cpu.setText("0.5")
        self.version.setText("1.0.0")
        scroll.setWidget(inner)
        return scroll

    @staticmethod
    def _form(card: Card) -> QtWidgets.QFormLayout:
        form = QtWidgets.QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        card.body.addLayout(form)
        return form

    # -- sources --------------------------------------------------------------------------

    def open_file(self) -> None:
        dialog = QtWidgets.QFileDialog(self, "Open a vehicle app", self._last_folder,
                                       "Vehicle apps (*.py *.json);;Python (*.py);;Playground export (*.json)")
        dialog.setFileMode(QtWidgets.QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.load_path(Path(path)))
        dialog.open()  # never exec(): a nested loop would stall the asyncio tasks

    def open_folder(self) -> None:
        dialog = QtWidgets.QFileDialog(self, "Open a project folder", self._last_folder)
        dialog.setFileMode(QtWidgets.QFileDialog.FileMode.Directory)
        dialog.setOption(QtWidgets.QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda path: self.load_path(Path(path)))
        dialog.open()

    def paste(self) -> None:
        text = QtWidgets.QApplication.clipboard().text()
        if text.strip():
            self.load_text(text, "pasted-app")

    def load_path(self, path: Path) -> bool:
        try:
            source = packager.load(path)
        except packager.SourceError as exc:
            self.code_status.setText("\n".join(exc.problems))
            self.code_status.show()
            return False
        self._last_folder = str(path if path.is_dir() else path.parent)
        self._set_source(source, str(path))
        return True

    def load_text(self, text: str, hint: str) -> bool:
        try:
            source = packager.from_text(text, hint)
        except packager.SourceError as exc:
            self.code_status.setText("\n".join(exc.problems))
            self.code_status.show()
            return False
        self._set_source(source, "")
        return True

    def load_prototype(self, source: packager.AppSource, origin: str, vss_version: str | None = None) -> None:
        """A prototype handed over from a web page or a link; its name replaces the one typed."""
        self._name_edited = False
        self._set_source(source, origin)
        if vss_version in VSS_VERSIONS:
            self.vss.setCurrentText(vss_version)

    def _set_source(self, source: packager.AppSource, origin: str) -> None:
        self._source = source
        self._origin = origin
        self.editor.setPlainText(source.text(source.entry_point))
        if not self._name_edited:
            self.name.setText(packager.suggested_name(source.name_hint))
        if source.description:
            self.description.setText(source.description)
            self.description.setCursorPosition(0)
        if source.vss_hint and source.vss_hint in VSS_VERSIONS:
            self.vss.setCurrentText(source.vss_hint)
        self._show_source()
        self.check()

    def _show_source(self) -> None:
        src = self._source
        self.source_label.setText(src.entry_point)
        kinds = {"file": "Python file", "folder": "project folder", "playground": "playground export"}
        extra = f" · {len(src.files)} files" if len(src.files) > 1 else ""
        self.source_kind.setText(f"{kinds.get(src.kind, src.kind)}{extra}")
        self.source_kind.setToolTip(getattr(self, "_origin", ""))

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasText():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        mime = event.mimeData()
        local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if local:
            self.load_path(Path(local[0]))
        elif mime.hasText():
            self.load_text(mime.text(), "dropped-app")
        event.acceptProposedAction()

    # -- validation -----------------------------------------------------------------------

    def check(self) -> bool:
        """Shows every problem on its field and the first syntax error at its line."""
        ok = True
        for key in ("name", "version", "memory", "cpu"):
            field = self.fields[key]
            message = packager.field_error(key, field.editor.text().strip())  # type: ignore[attr-defined]
            field.set_error(message)
            ok &= message is None
        problem = packager.syntax_problem(self._source.entry_point, self.editor.toPlainText())
        if problem is None:
            self.editor.set_error(0)
            self.code_status.setText("")
            self.code_status.hide()
        else:
            self.editor.set_error(problem.line, problem.column, problem.message)
            self.code_status.setText(f"Line {problem.line}, column {problem.column}: {problem.message}")
            self.code_status.show()
            ok = False
        self.completeChanged.emit()
        return ok

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        # Back from the Kuksa step: show the VSS version and fallback chosen there, or Next would undo them.
        state = self.ctx.state
        if state.options is not None:
            self.vss.setCurrentText(state.vss_version)
            self.fallback.setChecked(state.fallback_broker)
        super().showEvent(event)

    def is_complete(self) -> bool:
        return bool(self.name.text().strip()) and bool(self.editor.toPlainText().strip())

    def validate_page(self) -> bool:
        if not self.check():
            for field in self.fields.values():
                if field.error_text():
                    field.editor.setFocus()
                    return False
            self.editor.setFocus()
            if self.editor.error_line:
                cursor = QtGui.QTextCursor(self.editor.document().findBlockByNumber(self.editor.error_line - 1))
                self.editor.setTextCursor(cursor)
            return False
        state = self.ctx.state
        state.source = packager.with_entry_code(self._source, self.editor.toPlainText())
        state.vss_version = self.vss.currentText()
        state.fallback_broker = self.fallback.isChecked()
        state.security = {"sandboxLevel": self.sandbox.currentText(), "dataAccess": self.data_access.currentText(),
                          "interAppCommunication": self.inter_app.isChecked()}
        state.broker_auto_detect = self.auto_detect.isChecked()
        state.options = packager.options(
            name=self.name.text().strip(), version=self.version.text().strip(),
            description=self.description.text().strip(), runtime=self.runtime.currentData(),
            python_versions=self.python.currentData(), memory=self.memory.text().strip(),
            cpu=self.cpu.text().strip(), vss=self.vss.currentText(), broker_auto_detect=state.broker_auto_detect,
            fallback_broker=state.fallback_broker, security=state.security)
        return True

    # -- settings -------------------------------------------------------------------------

    def save_settings(self, settings: Settings) -> None:
        settings.set(CONFIGURE_FOLDER, self._last_folder)
        settings.set(CONFIGURE_RUNTIME, str(self.runtime.currentData()))
        python = self.python.currentText()
        settings.set(CONFIGURE_PYTHON, "" if python == ANY_PYTHON else python)
        settings.set(CONFIGURE_VSS, self.vss.currentText())

    def load_settings(self, settings: Settings) -> None:
        self._last_folder = settings.get(CONFIGURE_FOLDER) or self._last_folder
        self.runtime.setCurrentIndex(max(0, self.runtime.findData(settings.get(CONFIGURE_RUNTIME))))
        self.python.setCurrentText(settings.get(CONFIGURE_PYTHON) or ANY_PYTHON)
        self.vss.setCurrentText(settings.get(CONFIGURE_VSS))
