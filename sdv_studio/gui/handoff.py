"""Where hand-offs reach the window: the loopback endpoint for web pages, links from the desktop
(``sdv-studio://open?…``, passed on by later launches), and the confirmation before either changes
anything. Accepted, the code lands at Configure; nothing is built or deployed by a hand-off alone.
One arriving while the window is busy (a task runs, or it asks about another) waits in a short queue
and is asked about when the window is idle again.
"""

from __future__ import annotations

import dataclasses
import logging

from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.handoff.links import LINK_ORIGIN, RefLink, is_link, parse_link
from sdv_studio.core.handoff.origins import HandoffConfig, handoff_config
from sdv_studio.core.handoff.pending import MAX_PENDING, PendingHandoffs
from sdv_studio.core.handoff.request import Handoff, HandoffError
from sdv_studio.core.handoff.server import HandoffServer, Queued
from sdv_studio.gui.handoff_dialog import HandoffDialog
from sdv_studio.gui.qt import QtCore, QtGui, QtWidgets
from sdv_studio.gui.settings import HANDOFF_ENABLED, HANDOFF_ORIGINS, HANDOFF_PORT, Settings
from sdv_studio.gui.single_instance import InstanceServer
from sdv_studio.gui.window import MainWindow

log = logging.getLogger(__name__)

BUSY = "SDV Studio is busy with a running task; hand the prototype over again when it is done"


def config_from(settings: Settings) -> HandoffConfig | None:
    """The endpoint's port and origins from the settings (the environment overrides them); None when off."""
    if not settings.get(HANDOFF_ENABLED):
        return None
    try:
        port = int(settings.get(HANDOFF_PORT))
    except ValueError:
        port = -1
    return handoff_config(port, settings.get(HANDOFF_ORIGINS))


class HandoffReceiver(QtCore.QObject):
    def __init__(self, window: MainWindow, config: HandoffConfig | None,
                 instance: InstanceServer | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.server = HandoffServer(config.policy, self.deliver, config.port) if config else None
        self.instance = instance
        self.dialog: HandoffDialog | None = None
        self.pending = PendingHandoffs()
        window.tasks.when_idle(lambda: QtCore.QTimer.singleShot(0, self, self._ask_next))
        if instance is not None:
            instance.received.connect(self.open_message)
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # macOS hands links over as open-URL events, not arguments

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if isinstance(event, QtGui.QFileOpenEvent) and is_link(event.url().toString()):
            self.open_link(event.url().toString())
            return True
        return super().eventFilter(watched, event)

    async def start(self) -> None:
        """Listens for pages; a taken port leaves the window working without it (logged)."""
        if self.server is None:
            return
        try:
            await self.server.start()
        except OSError as exc:
            log.warning("web pages cannot hand code to this window: 127.0.0.1:%s: %s",
                        self.server.port, exc.strerror)
            self.server = None
            return
        log.info("hand-off endpoint on %s", self.server.url)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.instance is not None:
            self.instance.close()

    def deliver(self, handoff: Handoff) -> Queued | None:
        """Asks the user about ``handoff`` now, or queues it until the window is idle."""
        if self.dialog is None and not self.window.tasks.busy:
            self._ask(handoff)
            return None
        replaced = self.pending.put(handoff)
        work = "asking about another prototype" if self.dialog is not None else "busy with a running task"
        return Queued(
            f"SDV Studio is {work}; “{handoff.name}” is shown when that ends. "
            + ("It replaces the prototype this page handed over before. " if replaced else "")
            + f"A newer hand-off from the same page replaces it (at most {MAX_PENDING} pages wait).",
            replaced)

    def _ask(self, handoff: Handoff) -> None:
        self._bring_to_front()
        self.dialog = HandoffDialog(handoff, self.window)
        self.dialog.finished.connect(self._answered)
        self.dialog.open()  # never exec(): the endpoint and the engines run on this loop

    def _ask_next(self) -> None:
        if self.dialog is not None or self.window.tasks.busy:
            return
        handoff = self.pending.take()
        if handoff is not None:
            self._ask(handoff)

    def open_message(self, message: str) -> None:
        """A later launch's message: a link to open, or nothing but "come to the front"."""
        if not message:
            self._bring_to_front()
            return
        self.open_link(message)

    def open_link(self, url: str) -> None:
        try:
            parsed = parse_link(url)
            handoff = self._held(parsed) if isinstance(parsed, RefLink) else parsed
        except InvalidInput as exc:
            self._tell(f"This link cannot be opened:\n{chr(10).join(exc.problems)}")
            return
        queued = self.deliver(handoff)
        if queued is not None:
            self._tell(queued.message)

    def _held(self, link: RefLink) -> Handoff:
        held = self.server.held.take(link.ref) if self.server else None
        if held is None:
            raise HandoffError(["ref: unknown or expired; hand the prototype over from the page again"])
        return dataclasses.replace(held, origin=f"{held.origin} (through {LINK_ORIGIN})")

    def _answered(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        assert dialog is not None
        dialog.deleteLater()
        if result != QtWidgets.QDialog.DialogCode.Accepted:
            log.info("hand-off of %r from %s ignored", dialog.handoff.name, dialog.handoff.origin)
        elif not self.window.open_handoff(dialog.handoff):
            self._tell(BUSY)
        self._ask_next()

    def _tell(self, text: str) -> None:
        self._bring_to_front()
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "SDV Studio", text,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self.window)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _bring_to_front(self) -> None:
        window = self.window
        if window.isMinimized():
            window.showNormal()
        window.raise_()
        window.activateWindow()
