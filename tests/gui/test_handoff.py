"""Hand-offs reaching the window: a POST from a page, a real browser's button, a link passed on by a
second launch; one file or a multi-file tree. Each must ask first, then land at Configure with the
exact code and name; one arriving while the window is busy waits and is asked about afterwards."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import httpx
import pytest

from sdv_studio.core.handoff.links import LINK_ORIGIN, build_link, build_tree_link
from sdv_studio.core.handoff.origins import HandoffConfig, OriginPolicy
from sdv_studio.core.packaging.sources import load_folder
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.handoff import HandoffReceiver
from sdv_studio.gui.handoff_dialog import HandoffDialog
from sdv_studio.gui.log_window import LogWindow
from sdv_studio.gui.qt import QtWidgets
from sdv_studio.gui.single_instance import InstanceServer
from sdv_studio.gui.state import Step
from tests.gui.helpers import go_to, visible_dialog
from tests.locations import REPO, text_tree

PAGE_DIR = Path(__file__).parent / "handoff_page"
PROTOTYPE = (PAGE_DIR / "prototype.py").read_text(encoding="utf-8")
WIPERS_APP = PAGE_DIR / "wipers_app"  # a multi-file (Velocitas) prototype
PLAYGROUND = "https://playground.digital.auto"
DIGITAL_AUTO = "https://digital.auto"


def dialogs() -> list[HandoffDialog]:
    return [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, HandoffDialog) and w.isVisible()]


def start_receiver(qtbot, window, origins: list[str], instance: InstanceServer | None = None):  # type: ignore[no-untyped-def]
    receiver = HandoffReceiver(window, HandoffConfig(0, OriginPolicy.of(origins)), instance)
    started = asyncio.ensure_future(receiver.start())
    qtbot.waitUntil(started.done, timeout=5000)
    started.result()
    assert receiver.server is not None
    return receiver


def post_in_thread(url: str, origin: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    """The request from another thread: the endpoint answers on the window's loop, which the test turns."""
    pool = ThreadPoolExecutor(1)
    future = pool.submit(httpx.post, url, json=body, headers={"Origin": origin}, timeout=10)
    pool.shutdown(wait=False)
    return future


def assert_at_configure_with(window, code: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    assert window.ctx.state.current_step is Step.CONFIGURE
    assert page.editor.toPlainText() == code
    assert page.name.text() == name


def test_an_allowed_page_is_asked_about_then_lands_at_configure(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND, DIGITAL_AUTO])
    go_to(window, qtbot, Step.PACKAGE)  # somewhere else in the wizard, with other code
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=30_000)  # the build there has ended
    response = post_in_thread(receiver.server.url, PLAYGROUND,
                              {"pythonCode": PROTOTYPE, "prototypeName": "Smart Wipers", "vssVersion": "6.0"})
    dialog = visible_dialog(qtbot, HandoffDialog)
    qtbot.waitUntil(response.done, timeout=10_000)
    assert response.result().status_code == 202
    assert PLAYGROUND in dialog.message.text() and "Smart Wipers" in dialog.message.text()
    assert window.ctx.state.current_step is Step.PACKAGE  # nothing changed before the answer
    second = post_in_thread(receiver.server.url, DIGITAL_AUTO, {"pythonCode": "pass", "prototypeName": "other"})
    qtbot.waitUntil(second.done, timeout=10_000)
    assert second.result().status_code == 202 and second.result().json()["status"] == "queued"
    assert "asking about another prototype" in second.result().json()["message"] and len(dialogs()) == 1
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: dialogs() and dialogs()[0] is not dialog)  # the one that waited is asked next
    assert_at_configure_with(window, PROTOTYPE, "smart-wipers")
    assert window.page(Step.CONFIGURE).vss.currentText() == "6.0"
    assert window.ctx.state.app_package is None  # the package built before is forgotten, none is built
    dialogs()[0].ignore_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, PROTOTYPE, "smart-wipers")


def test_a_multi_file_tree_lands_at_configure_as_its_folder_would(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    tree = text_tree(WIPERS_APP)
    response = post_in_thread(receiver.server.url, PLAYGROUND, {"files": tree, "prototypeName": "Smart Wipers"})
    dialog = visible_dialog(qtbot, HandoffDialog)
    qtbot.waitUntil(response.done, timeout=10_000)
    assert response.result().status_code == 202, response.result().text
    assert "4 files" in dialog.message.text()
    listing = dialog.file_list
    assert listing is not None
    rows = [[listing.topLevelItem(i).text(c) for c in range(3)] for i in range(listing.topLevelItemCount())]
    assert rows[0] == ["app/src/main.py", str(tree["app/src/main.py"].count("\n") + 1), "entry point"]
    assert sorted(row[0] for row in rows) == sorted(tree) and [row[2] for row in rows[1:]] == ["", "", ""]
    assert dialog.preview.toPlainText().startswith("# A multi-file prototype")
    listing.setCurrentItem(listing.topLevelItem([row[0] for row in rows].index("app/src/wipers.py")))
    assert dialog.preview.toPlainText().startswith("def wiping_mode(")
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, tree["app/src/main.py"], "smart-wipers")
    page = window.page(Step.CONFIGURE)
    assert page.source_kind.text() == "playground export · 4 files"
    assert page.validate_page()
    opened, folder = window.ctx.state.source, load_folder(WIPERS_APP)
    assert (opened.files, opened.entry_point, opened.requirement_lines(), opened.declared_signals) == \
        (folder.files, folder.entry_point, folder.requirement_lines(), folder.declared_signals)


def test_a_tree_with_syntax_errors_names_each_file(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    tree = {"src/main.py": "import lib\nprint(:\n", "src/lib.py": "def f(:\n"}
    response = post_in_thread(receiver.server.url, PLAYGROUND, {"files": tree, "prototypeName": "Broken"})
    dialog = visible_dialog(qtbot, HandoffDialog)
    qtbot.waitUntil(response.done, timeout=10_000)
    problems = response.result().json()["problems"]
    assert [p.split(": ")[0] for p in problems] == ["src/lib.py:1:7", "src/main.py:2:7"]
    warning = dialog.findChild(QtWidgets.QLabel, "fieldError")
    assert "src/lib.py:1:7" in warning.text() and "src/main.py:2:7" in warning.text()
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert window.page(Step.CONFIGURE).editor.error_line == 2  # the entry point's error at its line


def test_an_invalid_tree_is_refused_with_the_file_and_no_dialog(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    escaping = {"main.py": "pass", "/etc/cron.d/x": "* * * * * root sh"}
    response = post_in_thread(receiver.server.url, PLAYGROUND, {"files": escaping, "prototypeName": "p"})
    qtbot.waitUntil(response.done, timeout=10_000)
    assert response.result().status_code == 400
    assert response.result().json() == {"errors": ["files: /etc/cron.d/x: must be inside the project (absolute path)"]}
    qtbot.wait(200)
    assert dialogs() == []


def test_hand_offs_while_busy_wait_until_the_work_ends(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND, DIGITAL_AUTO])
    deploying = asyncio.Event()
    window.ctx.run(deploying.wait(), name="deploy")  # a running task, as a deployment is
    answers = [post_in_thread(receiver.server.url, origin, {"pythonCode": f"print({name!r})\n", "prototypeName": name})
               for origin, name in ((PLAYGROUND, "first"), (DIGITAL_AUTO, "other"))]
    for answer in answers:
        qtbot.waitUntil(answer.done, timeout=10_000)
    newer = {"pythonCode": "print('newer')\n", "prototypeName": "newer"}
    again = post_in_thread(receiver.server.url, PLAYGROUND, newer)
    qtbot.waitUntil(again.done, timeout=10_000)
    bodies = [a.result().json() for a in (*answers, again)]
    assert [a.result().status_code for a in (*answers, again)] == [202, 202, 202]
    assert [(b["status"], b["replaced"]) for b in bodies] == [("queued", False), ("queued", False), ("queued", True)]
    assert "shown when that ends" in bodies[0]["message"] and "replaces the prototype" in bodies[2]["message"]
    qtbot.wait(200)
    assert dialogs() == []  # nothing interrupts the deployment
    deploying.set()
    dialog = visible_dialog(qtbot, HandoffDialog)  # oldest first: the newer one from the playground went last
    assert "“other”" in dialog.message.text()
    dialog.ignore_btn.click()
    qtbot.waitUntil(lambda: dialogs() and "“newer”" in dialogs()[0].message.text())
    dialogs()[0].open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, "print('newer')\n", "newer")
    qtbot.wait(200)
    assert dialogs() == []  # "first" was replaced, never asked about


def test_a_log_window_following_does_not_hold_a_hand_off_back(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """A log followed for hours runs beside the wizard: a hand-off is asked about at once."""
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    endless = asyncio.Event()

    async def lines():  # type: ignore[no-untyped-def]
        await endless.wait()
        yield "never"

    log = LogWindow(Device(id="d1", name="d1", ip="127.0.0.1"), "wipers")
    qtbot.addWidget(log)
    log.follow_stream(lines, window.ctx.run)
    assert len(window.tasks) == 1 and not window.tasks.busy
    response = post_in_thread(receiver.server.url, PLAYGROUND, {"pythonCode": "pass\n", "prototypeName": "now"})
    dialog = visible_dialog(qtbot, HandoffDialog)
    qtbot.waitUntil(response.done, timeout=10_000)
    assert response.result().json()["status"] != "queued" and "“now”" in dialog.message.text()
    dialog.ignore_btn.click()
    log.close()


def test_a_link_while_busy_is_asked_about_afterwards(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    building = asyncio.Event()
    window.ctx.run(building.wait(), name="build")
    tree = text_tree(WIPERS_APP)
    receiver.open_link(build_tree_link("Smart Wipers", tree))
    box = visible_dialog(qtbot, QtWidgets.QMessageBox)
    assert "busy with a running task" in box.text() and "shown when that ends" in box.text()
    box.close()
    assert dialogs() == []
    building.set()
    dialog = visible_dialog(qtbot, HandoffDialog)
    assert LINK_ORIGIN in dialog.message.text() and dialog.handoff.files == tree
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, tree["app/src/main.py"], "smart-wipers")


def test_ignoring_changes_nothing(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    before = window.page(Step.CONFIGURE).editor.toPlainText()
    post_in_thread(receiver.server.url, PLAYGROUND, {"pythonCode": "pass", "prototypeName": "p"})
    visible_dialog(qtbot, HandoffDialog).ignore_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert window.page(Step.CONFIGURE).editor.toPlainText() == before


def test_another_origin_gets_403_and_no_dialog(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    response = post_in_thread(receiver.server.url, "https://evil.example",
                              {"pythonCode": PROTOTYPE, "prototypeName": "Smart Wipers"})
    qtbot.waitUntil(response.done, timeout=10_000)
    assert response.result().status_code == 403
    qtbot.wait(200)
    assert dialogs() == []


# -- a real browser ----------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def page_server() -> Iterator[str]:
    """index.html and the prototype on a loopback port of their own: another origin than the endpoint's."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(PAGE_DIR)))
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # --no-sandbox: Chromium refuses to run its sandbox as root, which the test machines are.
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'chromium'}", "--no-first-run"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


@pytest.mark.slow
def test_a_browser_page_hands_off_through_the_confirmation(qtbot, window, page_server, browser) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [page_server])
    browser.get(f"{page_server}/index.html?endpoint={receiver.server.url}")
    browser.find_element("id", "deploy").click()
    dialog = visible_dialog(qtbot, HandoffDialog, timeout=30_000)
    assert page_server in dialog.message.text() and "Smart Wipers" in dialog.message.text()
    qtbot.waitUntil(lambda: browser.find_element("id", "result").text.startswith("202"), timeout=10_000)
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, PROTOTYPE, "smart-wipers")


@pytest.mark.slow
def test_a_browser_page_hands_off_a_multi_file_app(qtbot, window, page_server, browser) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [page_server])
    browser.get(f"{page_server}/index.html?endpoint={receiver.server.url}")
    browser.find_element("id", "deploy-tree").click()
    dialog = visible_dialog(qtbot, HandoffDialog, timeout=30_000)
    tree = text_tree(WIPERS_APP)
    assert dialog.handoff.files == tree and dialog.handoff.origin == page_server
    qtbot.waitUntil(lambda: browser.find_element("id", "result").text.startswith("202"), timeout=10_000)
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, tree["app/src/main.py"], "smart-wipers")
    assert window.page(Step.CONFIGURE).validate_page()
    assert window.ctx.state.source.files == load_folder(WIPERS_APP).files


@pytest.mark.slow
def test_a_browser_page_of_another_origin_is_refused(qtbot, window, page_server, browser) -> None:  # type: ignore[no-untyped-def]
    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    browser.get(f"{page_server}/index.html?endpoint={receiver.server.url}")
    browser.find_element("id", "deploy").click()
    qtbot.waitUntil(lambda: browser.find_element("id", "result").text.startswith("failed"), timeout=30_000)
    assert dialogs() == []


# -- links, as the desktop runs the handler -----------------------------------------------------


def desktop_command(link: str) -> list[str]:
    """The .desktop entry's Exec line with the link for %u, this checkout's Python as the program."""
    exec_line = next(line for line in (REPO / "packaging/linux/sdv-studio.desktop").read_text().splitlines()
                     if line.startswith("Exec="))
    program, *args = exec_line.removeprefix("Exec=").split()
    assert program == "sdv-studio" and args == ["%u"]
    return [sys.executable, "-m", "sdv_studio", *(link if a == "%u" else a for a in args)]


@pytest.mark.slow
def test_a_link_reaches_the_running_window(qtbot, window, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path / "home"))
    instance = InstanceServer()
    assert instance.listen()
    start_receiver(qtbot, window, [PLAYGROUND], instance)
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    launch = subprocess.Popen(desktop_command(build_link("Smart Wipers", PROTOTYPE)), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: launch.poll() is not None, timeout=60_000)
    finally:
        launch.kill()
    _, stderr = launch.communicate()
    assert launch.returncode == 0, stderr
    assert "handed to the running SDV Studio window" in stderr  # it did not open a window of its own
    dialog = visible_dialog(qtbot, HandoffDialog)
    assert LINK_ORIGIN in dialog.message.text()
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, PROTOTYPE, "smart-wipers")


def test_a_link_to_code_left_by_a_page(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.core.handoff.links import ref_link
    from sdv_studio.core.handoff.request import Handoff

    receiver = start_receiver(qtbot, window, [PLAYGROUND])
    ref = receiver.server.held.put(Handoff(PROTOTYPE, "Smart Wipers", PLAYGROUND))
    receiver.open_link(ref_link(ref))
    dialog = visible_dialog(qtbot, HandoffDialog)
    assert PLAYGROUND in dialog.message.text()
    dialog.open_btn.click()
    qtbot.waitUntil(lambda: not dialogs())
    assert_at_configure_with(window, PROTOTYPE, "smart-wipers")
    receiver.open_link(ref_link(ref))  # taken already: the user is told, nothing opens
    box = visible_dialog(qtbot, QtWidgets.QMessageBox)
    assert "ref: unknown or expired" in box.text()
    box.close()
