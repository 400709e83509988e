"""One desktop window per user and config folder: a second launch hands its link (or just "come to
the front") to the running window over a local socket and exits.

A QLocalServer is a Unix socket or a Windows named pipe, open to this user alone; its name comes from
the config folder, so a test's or a portable install's ``SDV_STUDIO_HOME`` has a window of its own.
"""

from __future__ import annotations

import hashlib
import logging

from sdv_studio import paths
from sdv_studio.gui.qt import QtCore, QtNetwork, Signal

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024**2  # a link with a long base64url code
ACK = b"ok\n"
CONNECT_TIMEOUT_MS = 500
ANSWER_TIMEOUT_MS = 5000


def server_name() -> str:
    digest = hashlib.sha256(str(paths.config_dir().resolve()).encode()).hexdigest()[:16]
    return f"sdv-studio-{digest}"


def forward(message: str, name: str | None = None) -> bool:
    """Hands ``message`` (a link, or "" to come to the front) to a running window; False when none runs.

    Blocking, before this process's own window exists: it only waits for the running one's answer.
    """
    socket = QtNetwork.QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(message.encode("utf-8") + b"\n")
    socket.waitForBytesWritten(ANSWER_TIMEOUT_MS)
    answer = b""
    while not answer.endswith(b"\n") and socket.waitForReadyRead(ANSWER_TIMEOUT_MS):
        answer += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    return answer == ACK


class InstanceServer(QtCore.QObject):
    """Listens for later launches; ``received`` carries each one's message."""

    received = Signal(str)

    def __init__(self, name: str | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QtNetwork.QLocalServer(self)
        self._server.setSocketOptions(QtNetwork.QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        if self._server.listen(self.name):
            return True
        # A window that crashed leaves its Unix socket behind; nobody answered on it (forward() said so).
        QtNetwork.QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        log.warning("later launches cannot reach this window: %s", self._server.errorString())
        return False

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            buffer = bytearray()
            socket.readyRead.connect(lambda s=socket, b=buffer: self._read(s, b))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QtNetwork.QLocalSocket, buffer: bytearray) -> None:
        buffer += bytes(socket.readAll().data())
        if len(buffer) > MAX_MESSAGE_BYTES:
            socket.abort()
            return
        if buffer.endswith(b"\n"):
            socket.write(ACK)
            socket.flush()
            socket.disconnectFromServer()
            self.received.emit(buffer[:-1].decode("utf-8", errors="replace"))
