"""Step 2: build the package off the GUI thread, then show what is in it; save a copy anywhere."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sdv_studio.gui.adapters.packager import BuildDone, BuildProgress
from sdv_studio.gui.context import Context
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.qt import Qt, QtWidgets
from sdv_studio.gui.settings import PACKAGE_SAVE_FOLDER
from sdv_studio.gui.widgets.common import Banner, Card, Stat, button
from sdv_studio.models.sizes import human_size

if TYPE_CHECKING:
    from sdv_studio.core.packaging import BuildResult


class PackagePage(Page):
    title = "Package"
    subtitle = "A reproducible package with everything the app needs to install offline on the device."
    icon = "package"

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._task: asyncio.Task[None] | None = None
        self._built_for: object = None
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(14)

        build = Card("Build")
        row = QtWidgets.QHBoxLayout()
        self.stage = QtWidgets.QLabel("Not built yet")
        self.stage.setObjectName("muted")
        self.stage.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.stage, 1)
        self.rebuild_btn = button("Rebuild", "refresh", tip="Build the package again")
        self.cancel_btn = button("Cancel", "cancel", tip="Stop waiting for this build (Esc)")
        self.save_btn = button("Save as…", "save", tip="Save a copy of the package file (Ctrl+S)")
        self.save_btn.setShortcut("Ctrl+S")
        self.cancel_btn.setShortcut("Esc")
        for btn in (self.rebuild_btn, self.cancel_btn, self.save_btn):
            row.addWidget(btn)
        build.body.addLayout(row)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        build.body.addWidget(self.progress)
        self.banner = Banner()
        build.body.addWidget(self.banner)
        col.addWidget(build)
        self.rebuild_btn.clicked.connect(self.start_build)
        self.cancel_btn.clicked.connect(self.cancel)
        self.save_btn.clicked.connect(self.save_as)

        stats = Card()
        grid = QtWidgets.QHBoxLayout()
        grid.setSpacing(28)
        self.stat_name = Stat("App")
        self.stat_size = Stat("Size")
        self.stat_files = Stat("Files")
        self.stat_flavour = Stat("Kind")
        self.stat_id = Stat("Package id")
        for stat in (self.stat_name, self.stat_size, self.stat_files, self.stat_flavour, self.stat_id):
            grid.addWidget(stat)
        grid.addStretch()
        stats.body.addLayout(grid)
        self.checksum = QtWidgets.QLabel()
        self.checksum.setObjectName("muted")
        self.checksum.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        stats.body.addWidget(self.checksum)
        col.addWidget(stats)

        lower = QtWidgets.QHBoxLayout()
        lower.setSpacing(14)
        manifest = Card("Manifest")
        self.manifest = QtWidgets.QTreeWidget()
        self.manifest.setHeaderLabels(["Field", "Value"])
        self.manifest.setRootIsDecorated(False)
        self.manifest.setAlternatingRowColors(True)
        self.manifest.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        manifest.body.addWidget(self.manifest)
        files = Card("Files")
        self.files = QtWidgets.QTreeWidget()
        self.files.setHeaderLabels(["Path", "Size"])
        self.files.setRootIsDecorated(False)
        self.files.setAlternatingRowColors(True)
        self.files.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.files.header().setStretchLastSection(False)
        files.body.addWidget(self.files)
        lower.addWidget(manifest, 1)
        lower.addWidget(files, 1)
        col.addLayout(lower, 1)
        self._set_running(False)

    # -- building -------------------------------------------------------------------------

    def initialize_page(self) -> None:
        state = self.ctx.state
        key = (state.source, state.options)
        if state.app_package is None or key != self._built_for:
            self.start_build()

    def start_build(self) -> None:
        if self._task is not None and not self._task.done():
            return
        state = self.ctx.state
        if state.source is None or state.options is None:
            return
        state.app_package = None
        self._built_for = (state.source, state.options)
        self._clear()
        self.stage.setText("Starting the build…")
        self._task = self.track(self.ctx.run(self._build(), self._failed, name="build"))
        self._task.add_done_callback(self._ended)
        self._set_running(True)

    async def _build(self) -> None:
        state = self.ctx.state
        assert state.source is not None and state.options is not None
        try:
            async for event in self.ctx.engines.packager.build(state.source, state.options):
                if isinstance(event, BuildProgress):
                    self.stage.setText(event.message)
                    self.progress.setRange(0, 100)
                    self.progress.setValue(event.stage.progress)
                elif isinstance(event, BuildDone):
                    await self._show(event.result)
        finally:
            self._set_running(False)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():  # also when cancelled before it ever ran
            self.stage.setText("Build cancelled")
            self.banner.show_message("The build was cancelled. Rebuild when ready.", "warn")
            self.progress.setRange(0, 100)
            self.progress.setValue(0)
            self._set_running(False)

    def _failed(self, exc: BaseException) -> None:
        problems = getattr(exc, "problems", None)  # PackageError / BuildFailed: one line per problem
        if problems:
            self.banner.show_message("\n".join(problems), "error")
        else:
            self.banner.show_message(f"The build failed: {exc}", "error")
        self.stage.setText("Build failed")
        self.progress.setValue(0)
        self._set_running(False)

    async def _show(self, result: BuildResult) -> None:
        self.progress.setRange(0, 100)
        self.progress.setValue(100)
        self.stage.setText(f"Built {result.path.name}")
        m = result.manifest
        self.stat_name.set(f"{m.get('name')} {m.get('version')}")
        self.stat_size.set(human_size(result.stored.size))
        self.stat_flavour.set(str(result.flavour).capitalize())
        self.stat_id.set(result.stored.package_id)
        self.checksum.setText(f"Checksum  {result.stored.checksum}")
        self.manifest.clear()
        for key, value in _flatten(m):
            item = QtWidgets.QTreeWidgetItem(self.manifest, [key, value])
            item.setToolTip(1, value)
        files = await self.ctx.engines.packager.contents(result)
        self.stat_files.set(str(len(files)))
        self.files.clear()
        for f in files:
            item = QtWidgets.QTreeWidgetItem(self.files, [f.path, human_size(f.size)])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.files.resizeColumnToContents(1)
        notes = "\n".join(result.notes)
        platforms = ", ".join(str(p) for p in m.get("platforms", []))  # type: ignore[attr-defined]
        ready = (f"Ready to deploy: {len(files)} files in {human_size(result.stored.size)}, installs offline on "
                 f"{platforms or 'the device'}.")
        self.banner.show_message(f"{ready}\n{notes}" if notes else ready, "warn" if notes else "ok")
        self.ctx.state.app_package = result
        self.save_btn.setEnabled(True)
        self.completeChanged.emit()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _clear(self) -> None:
        self.banner.show_message("")
        for stat in (self.stat_name, self.stat_size, self.stat_files, self.stat_flavour, self.stat_id):
            stat.set("–")
        self.checksum.setText("")
        self.manifest.clear()
        self.files.clear()
        self.progress.setRange(0, 0)

    def _set_running(self, running: bool) -> None:
        self.cancel_btn.setEnabled(running)
        self.rebuild_btn.setEnabled(not running)
        self.save_btn.setEnabled(not running and self.ctx.state.app_package is not None)
        if not running and self.progress.maximum() == 0:
            self.progress.setRange(0, 100)
        self.completeChanged.emit()

    # -- saving ---------------------------------------------------------------------------

    def save_as(self) -> None:
        result = self.ctx.state.app_package
        if result is None:
            return
        folder = self.ctx.settings.get(PACKAGE_SAVE_FOLDER) or str(Path.home())
        dialog = QtWidgets.QFileDialog(self, "Save package as", str(Path(folder) / result.path.name),
                                       "SDV package (*.tar.gz)")
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self.save_to(Path(path)))
        dialog.open()

    def save_to(self, dest: Path) -> None:
        result = self.ctx.state.app_package
        if result is None:
            return
        self.ctx.settings.set(PACKAGE_SAVE_FOLDER, str(dest.parent))

        async def copy() -> None:
            await self.ctx.engines.packager.save_as(result, dest)
            self.banner.show_message(f"Saved to {dest}", "ok")

        self.ctx.run(copy(), lambda exc: self.banner.show_message(f"Could not save: {exc}", "error"))

    # -- wizard ---------------------------------------------------------------------------

    def is_complete(self) -> bool:
        return self.ctx.state.app_package is not None

    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def reset(self) -> None:
        self.cancel()
        self._built_for = None
        self._clear()
        self.progress.setRange(0, 100)
        self.stage.setText("Not built yet")


def _flatten(data: object, prefix: str = "") -> list[tuple[str, str]]:
    """Manifest fields as rows (nested keys dotted); the code itself is left out."""
    rows: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "code":
                continue
            rows.extend(_flatten(value, f"{prefix}{key}." if isinstance(value, dict) else f"{prefix}{key}"))
        return rows
    if isinstance(data, list):
        return [(prefix, ", ".join(str(v) for v in data) or "–")]
    if isinstance(data, bool):
        return [(prefix.rstrip("."), "yes" if data else "no")]
    return [(prefix.rstrip("."), str(data))]


