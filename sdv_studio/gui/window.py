"""The main window: a dark step rail on the left, the current page, and Back/Next at the bottom."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from sdv_studio import __version__
from sdv_studio.core.handoff.request import Handoff
from sdv_studio.gui import icons
from sdv_studio.gui.adapters import Engines
from sdv_studio.gui.context import Context
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.pages.complete import CompletePage
from sdv_studio.gui.pages.configure import ConfigurePage
from sdv_studio.gui.pages.deploy import DeployPage
from sdv_studio.gui.pages.devices import DevicesPage
from sdv_studio.gui.pages.kuksa import KuksaPage
from sdv_studio.gui.pages.package import PackagePage
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets
from sdv_studio.gui.running_tasks import RunningTasks
from sdv_studio.gui.settings import WINDOW_GEOMETRY, Settings
from sdv_studio.gui.state import STEPS, DeploymentState, Step
from sdv_studio.gui.widgets.common import button, shortcut

PAGES: tuple[type[Page], ...] = (ConfigurePage, PackagePage, DevicesPage, KuksaPage, DeployPage, CompletePage)
MIN_SIZE = QtCore.QSize(1024, 680)
P = TypeVar("P", bound=Page)


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, engines: Engines, settings: Settings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("SDV Studio")
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(MIN_SIZE)
        self.settings = settings or Settings()
        self.tasks = RunningTasks()
        self.ctx = Context(state=DeploymentState(), engines=engines, tasks=self.tasks, settings=self.settings)
        self._closing = False
        self._reached = 0  # furthest step entered: the rail lets you jump back, never ahead

        central = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._rail())
        row.addWidget(self._content(), 1)
        self.setCentralWidget(central)

        self.pages: list[Page] = []
        for cls in PAGES:
            page = cls(self.ctx)
            page.completeChanged.connect(self._update_buttons)
            page.load_settings(self.settings)
            self.pages.append(page)
            self.stack.addWidget(page)
        complete = self.page_of(CompletePage)
        complete.startOver.connect(self.start_over)
        complete.redeployFailed.connect(self.redeploy_failed)

        geometry = self.settings.get(WINDOW_GEOMETRY)
        if not (geometry and self.restoreGeometry(QtCore.QByteArray(geometry))):
            self.resize(1280, 800)
        self._go(0)

    # -- layout ---------------------------------------------------------------------------

    def _rail(self) -> QtWidgets.QWidget:
        rail = QtWidgets.QFrame()
        rail.setObjectName("rail")
        rail.setFixedWidth(220)
        col = QtWidgets.QVBoxLayout(rail)
        col.setContentsMargins(0, 22, 0, 16)
        col.setSpacing(4)
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(20, 0, 16, 0)
        head.setSpacing(10)
        logo = QtWidgets.QLabel()
        logo.setPixmap(icons.app_icon().pixmap(34, 34))
        head.addWidget(logo)
        names = QtWidgets.QVBoxLayout()
        names.setSpacing(0)
        title = QtWidgets.QLabel("SDV Studio")
        title.setObjectName("railTitle")
        sub = QtWidgets.QLabel("Vehicle app deploy")
        sub.setObjectName("railSubtitle")
        names.addWidget(title)
        names.addWidget(sub)
        head.addLayout(names, 1)
        col.addLayout(head)
        col.addSpacing(26)
        self.steps = QtWidgets.QListWidget()
        self.steps.setObjectName("steps")
        self.steps.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.steps.setIconSize(QtCore.QSize(20, 20))
        self.steps.setAccessibleName("Steps")
        self.steps.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for index, cls in enumerate(PAGES):
            item = QtWidgets.QListWidgetItem(icons.icon(cls.icon, "#aab7c4"), f"  {index + 1}   {cls.title}")
            item.setSizeHint(QtCore.QSize(0, 44))
            self.steps.addItem(item)
        self.steps.currentRowChanged.connect(self._rail_clicked)
        col.addWidget(self.steps, 1)
        version = QtWidgets.QLabel(f"v{__version__}")
        version.setObjectName("railVersion")
        version.setContentsMargins(22, 0, 0, 0)
        col.addWidget(version)
        return rail

    def _content(self) -> QtWidgets.QWidget:
        content = QtWidgets.QWidget()
        content.setObjectName("content")
        col = QtWidgets.QVBoxLayout(content)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        header = QtWidgets.QWidget()
        head = QtWidgets.QVBoxLayout(header)
        head.setContentsMargins(28, 22, 28, 10)
        head.setSpacing(4)
        self.page_title = QtWidgets.QLabel()
        self.page_title.setObjectName("pageTitle")
        self.page_subtitle = QtWidgets.QLabel()
        self.page_subtitle.setObjectName("pageSubtitle")
        self.page_subtitle.setWordWrap(True)
        head.addWidget(self.page_title)
        head.addWidget(self.page_subtitle)
        col.addWidget(header)
        self.stack = QtWidgets.QStackedWidget()
        holder = QtWidgets.QWidget()
        hl = QtWidgets.QVBoxLayout(holder)
        hl.setContentsMargins(28, 8, 28, 18)
        hl.addWidget(self.stack)
        col.addWidget(holder, 1)
        footer = QtWidgets.QFrame()
        footer.setObjectName("footer")
        foot = QtWidgets.QHBoxLayout(footer)
        foot.setContentsMargins(28, 12, 28, 12)
        self.step_label = QtWidgets.QLabel()
        self.step_label.setObjectName("muted")
        foot.addWidget(self.step_label)
        foot.addStretch()
        self.back_btn = button("Back", tip="Previous step (Alt+Left)")
        self.next_btn = button("Next", primary=True, tip="Next step (Alt+Right)")
        self.back_btn.clicked.connect(self.back)
        self.next_btn.clicked.connect(self.next)
        foot.addWidget(self.back_btn)
        foot.addWidget(self.next_btn)
        col.addWidget(footer)
        shortcut(QtGui.QKeySequence("Alt+Right"), self, self.next)
        shortcut(QtGui.QKeySequence("Alt+Left"), self, self.back)
        shortcut(QtGui.QKeySequence("Ctrl+Return"), self, self.next)
        return content

    # -- navigation -----------------------------------------------------------------------

    @property
    def index(self) -> int:
        return self.stack.currentIndex()

    def page(self, step: Step) -> Page:
        return self.pages[STEPS.index(step)]

    def page_of(self, kind: type[P]) -> P:
        """The wizard's page of that class, typed as such."""
        return next(p for p in self.pages if isinstance(p, kind))

    def current_page(self) -> Page:
        return self.pages[self.index]

    def _go(self, index: int, initialize: bool = True) -> None:
        page = self.pages[index]
        if initialize:
            page.initialize_page()
        self.stack.setCurrentIndex(index)
        self._reached = max(self._reached, index)
        self.ctx.state.current_step = STEPS[index]
        self.page_title.setText(page.title)
        self.page_subtitle.setText(page.subtitle)
        self.step_label.setText(f"Step {index + 1} of {len(PAGES)}")
        self.steps.blockSignals(True)
        self.steps.setCurrentRow(index)
        for row in range(self.steps.count()):
            item = self.steps.item(row)
            enabled = row <= self._reached
            item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled if enabled
                          else Qt.ItemFlag.NoItemFlags)
        self.steps.blockSignals(False)
        self._update_buttons()

    def next(self) -> None:
        page = self.current_page()
        if self.index >= len(self.pages) - 1 or not self.next_btn.isEnabled() or not page.validate_page():
            return
        self._go(self.index + 1)
        focus = self.pages[self.index].focusWidget() or self.next_btn
        focus.setFocus()

    def back(self) -> None:
        if self.index > 0 and self.back_btn.isEnabled():
            self._go(self.index - 1, initialize=False)

    def _rail_clicked(self, row: int) -> None:
        if 0 <= row < self.index and not self.current_page().busy():
            self._go(row, initialize=False)
        elif row == self.index + 1 and row <= self._reached:
            self.next()  # forward only through the current page's validation
        if self.steps.currentRow() != self.index:
            self.steps.blockSignals(True)
            self.steps.setCurrentRow(self.index)
            self.steps.blockSignals(False)

    def _update_buttons(self) -> None:
        page = self.current_page()
        busy = page.busy()
        last = self.index == len(self.pages) - 1
        self.back_btn.setEnabled(self.index > 0 and not busy and STEPS[self.index] is not Step.COMPLETE)
        self.next_btn.setVisible(not last)
        self.next_btn.setText(page.next_label)
        self.next_btn.setEnabled(not busy and page.is_complete())

    def redeploy_failed(self) -> None:
        self._go(STEPS.index(Step.DEPLOY), initialize=False)
        self.page_of(DeployPage).retry_failed()

    def open_handoff(self, handoff: Handoff) -> bool:
        """Starts over at Configure with a handed-off prototype (the user said yes); False while a task runs."""
        if self.tasks.busy:
            return False
        self.start_over()
        self.page_of(ConfigurePage).load_prototype(handoff.source(), handoff.origin, handoff.vss_version)
        return True

    def start_over(self) -> None:
        self.ctx.state.reset()
        self._reached = 0
        for page in self.pages:
            page.reset()
        self._go(0)

    # -- closing --------------------------------------------------------------------------

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self._closing:
            self._closing = True
            self.save_settings()
        if len(self.tasks):
            # Cancel (log windows' and monitors' too), let the tasks unwind (bounded), then close for real.
            event.ignore()
            self._closer = asyncio.ensure_future(self._close_after_cancel())
            return
        event.accept()

    async def _close_after_cancel(self) -> None:
        await self.tasks.cancel_all(timeout=2.0)
        self.close()

    def save_settings(self) -> None:
        self.settings.set(WINDOW_GEOMETRY, bytes(self.saveGeometry().data()))
        for page in self.pages:
            page.save_settings(self.settings)
        self.settings.sync()
