"""Start the desktop app: a QApplication driven by qasync's event loop, logging to a file, with
every uncaught exception logged there and shown (gui.error_hooks)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sdv_studio.gui.qt import QtWidgets, qasync  # first: sets QT_API before qasync loads

if TYPE_CHECKING:
    from sdv_studio.gui.handoff import HandoffReceiver


def create_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    from sdv_studio.gui import icons, theme

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or sys.argv)
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("SDV Studio")
    app.setOrganizationName("SDV Studio")
    app.setApplicationDisplayName("SDV Studio")
    app.setWindowIcon(icons.app_icon())
    theme.apply(app)
    # The engine's SSH threads (paramiko does its packet work in Python) contend with the
    # window's thread for the GIL; a 1 ms switch interval (5 ms by default) hands it back sooner.
    sys.setswitchinterval(0.001)
    return app


@contextlib.contextmanager
def event_loop(app: QtWidgets.QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """qasync's loop on ``app``'s events, its blocking calls on daemon threads; closed on leaving."""
    from sdv_studio.gui.executor import DaemonExecutor

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    executor = DaemonExecutor()
    loop.set_default_executor(executor)
    try:
        with loop:
            yield loop
    finally:
        # Without waiting: a worker stuck in getaddrinfo or an SSH read must not hold up exit.
        executor.shutdown(wait=False, cancel_futures=True)
        loop.set_default_executor(None)


def load_engines() -> None:
    """The engines' libraries (``adapters.preload``), then every object so far moved out of the
    cyclic garbage collector's sight (``gc.freeze``). They live as long as the app, and each full
    collection walked them all: 70-85 ms of the window's loop over the ~130,000 objects of the
    libraries and the Monitor's plotting, the Monitor's longest stall about once a minute. A full
    collection now walks only what was made since. Meant for a thread started once the window shows."""
    from sdv_studio.gui.adapters import preload

    preload()
    gc.freeze()


def run_app(link: str | None = None) -> int:
    """The window, or, when one runs already for this user, ``link`` handed to it (exits at once)."""
    from sdv_studio import paths
    from sdv_studio.gui import error_hooks, single_instance
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.handoff import HandoffReceiver, config_from
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.window import MainWindow
    from sdv_studio.logging_setup import log_to_file

    log_to_file(paths.log_file())
    app = create_app()
    if single_instance.forward(link or ""):
        print("handed to the running SDV Studio window", file=sys.stderr)
        return 0
    settings = Settings()
    config = config_from(settings)  # a bad SDV_STUDIO_HANDOFF_* variable is reported before any window
    instance = single_instance.InstanceServer()
    instance.listen()
    with event_loop(app) as loop:
        error_hooks.install(loop)  # unexpected errors: logged with their traceback, and shown
        window = MainWindow(default_engines(), settings)
        receiver = HandoffReceiver(window, config, instance)
        window.show()
        # The engines' libraries load behind the shown window; the short GIL switch interval keeps it responsive.
        threading.Thread(target=load_engines, name="sdv-preload", daemon=True).start()
        closed = asyncio.Event()
        app.lastWindowClosed.connect(closed.set)
        loop.run_until_complete(_serve_until(closed, receiver, link))
    return 0


async def _serve_until(closed: asyncio.Event, receiver: HandoffReceiver, link: str | None) -> None:
    """Takes hand-offs (and offers ``link``) until the last window closes."""
    await receiver.start()
    if link:
        receiver.open_link(link)
    try:
        await closed.wait()
    finally:
        receiver.close()  # now: the loop stops as soon as the last window has closed


__all__ = ["create_app", "event_loop", "load_engines", "run_app"]
