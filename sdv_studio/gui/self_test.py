"""``sdv-studio --self-test``: the real window on the real engines, every page shown, closed, exit 0.

The installers' smoke test (run with QT_QPA_PLATFORM=offscreen in CI): it proves a bundle carries
Qt and a platform plugin, qasync, the theme and icons, every page and the core modules behind them.
Pages are shown without being initialised, so no build, scan or probe starts and nothing touches
the network. Settings go to a throwaway file, never the user's. One line per milestone on stdout;
bench/frozen.py times the first, ``window shown``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from sdv_studio.gui.qt import QtWidgets  # first: sets QT_API before qasync loads

TIMEOUT = 60.0


class SelfTestError(Exception):
    pass


async def _settle() -> None:
    # Under qasync, sleeping hands control to Qt's event loop: layout, paint and expose run meanwhile.
    await asyncio.sleep(0.05)


async def _walk(app: QtWidgets.QApplication, window: QtWidgets.QMainWindow) -> None:
    from sdv_studio.gui.window import MainWindow

    assert isinstance(window, MainWindow)
    await _settle()
    if not window.isVisible():
        raise SelfTestError("the main window did not show")
    print(f"window shown: {window.windowTitle()!r} on {app.platformName()}", flush=True)
    for index, page in enumerate(window.pages):
        window._go(index, initialize=False)
        await _settle()
        if window.stack.currentWidget() is not page or window.page_title.text() != page.title:
            raise SelfTestError(f"page {index + 1} ({page.title}) did not open")
        if window.grab().isNull():
            raise SelfTestError(f"page {index + 1} ({page.title}) did not render")
        print(f"page {index + 1}/{len(window.pages)}: {page.title}", flush=True)
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    window.close()
    await closed.wait()
    print("window closed", flush=True)


def run_self_test() -> int:
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.app import create_app, event_loop
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.window import MainWindow

    app = create_app()
    with tempfile.TemporaryDirectory(prefix="sdv-self-test-") as tmp, event_loop(app) as loop:
        window = MainWindow(default_engines(), Settings(Path(tmp) / "settings.ini"))
        window.show()
        try:
            loop.run_until_complete(asyncio.wait_for(_walk(app, window), TIMEOUT))
        except (SelfTestError, TimeoutError) as exc:
            print(f"self-test failed: {exc or f'no result within {TIMEOUT:.0f} s'}", file=sys.stderr)
            return 1
    print("self-test ok", flush=True)
    return 0


__all__ = ["run_self_test"]
