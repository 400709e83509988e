"""Where hand-offs reach the window: the loopback endpoint for web pages, links from the desktop
(``sdv-studio://open?…``, passed on by later launches), and the confirmation before either changes
anything. Accepted, the code lands at Configure; nothing is built or deployed by a hand-off alone.
"""

from __future__ import annotations

import logging

from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.handoff.links import LINK_ORIGIN, RefLink, is_link, parse_link
from sdv_studio.core.handoff.origins import HandoffConfig, handoff_config
from sdv_studio.core.handoff.request import Handoff, HandoffError
from sdv_studio.core.handoff.server import HandoffServer
from sdv_studio.gui.handoff_dialog import HandoffDialog
from sdv_studio.gui.qt import QtCore, QtGui, QtWidgets
from sdv_studio.gui.settings import HANDOFF_ENABLED, HANDOFF_ORIGINS, HANDOFF_PORT, Settings
from sdv_studio.gui.single_instance import InstanceServer
from sdv_studio.gui.window import MainWindow

log = logging.getLogger(__name__)

BUSY = "SDV Studio is busy with a running task; hand the prototype over again when it is done"
ASKING = "SDV Studio is already asking about another prototype"


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

    def deliver(self, handoff: Handoff) -> str | None:
        """Asks the user about ``handoff``; the reason when the window cannot ask now."""
        if self.dialog is not None:
            return ASKING
        if self.window.tasks.busy:
            return BUSY
        self._bring_to_front()
        self.dialog = HandoffDialog(handoff, self.window)
        self.dialog.finished.connect(self._answered)
        self.dialog.open()  # never exec(): the endpoint and the engines run on this loop
        return None

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
        refused = self.deliver(handoff)
        if refused:
            self._tell(refused)

    def _held(self, link: RefLink) -> Handoff:
        held = self.server.held.take(link.ref) if self.server else None
        if held is None:
            raise HandoffError(["ref: unknown or expired; hand the prototype over from the page again"])
        return Handoff(held.code, held.name, f"{held.origin} (through {LINK_ORIGIN})", held.vss_version)

    def _answered(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        assert dialog is not None
        dialog.deleteLater()
        if result != QtWidgets.QDialog.DialogCode.Accepted:
            log.info("hand-off of %r from %s ignored", dialog.handoff.name, dialog.handoff.origin)
            return
        if not self.window.open_handoff(dialog.handoff):
            self._tell(BUSY)

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
