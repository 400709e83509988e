"""Steps the GUI tests share: fill Configure with a light app, walk forward, scan the rig, find a
dialog, read a Complete row, and ask a device what it runs apart from the GUI."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from sdv_studio.gui.qt import Qt, QtWidgets
from sdv_studio.gui.state import Step
from sdv_studio.gui.trust_sheet import TrustSheet
from sdv_studio.models.deployment import AppState
from tests.gui.fakes import PLAIN_APP

DialogT = TypeVar("DialogT", bound=QtWidgets.QDialog)


def configure_plain_app(window, name: str = "heartbeat") -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    page.editor.setPlainText(PLAIN_APP)
    page.name.setText(name)
    assert page.check()


def go_to(window, qtbot, step: Step, timeout: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Clicks Next until ``step`` is showing, waiting for each page to allow it."""
    while window.ctx.state.current_step is not step:
        qtbot.waitUntil(lambda: window.next_btn.isEnabled(), timeout=timeout)
        before = window.index
        window.next_btn.click()
        assert window.index == before + 1, f"Next did not leave {window.ctx.state.current_step}"


def scan_rig(window, qtbot, rig):  # type: ignore[no-untyped-def]
    """On the Devices page: sweep the rig's LAN as its login user; the page, once the scan ended."""
    devices = window.page(Step.DEVICES)
    devices.subnet.setText(rig.sweep_cidr)
    devices.user.setText(rig.user)
    devices.identity.setText(str(rig.key_path))
    devices.scan_btn.click()
    qtbot.waitUntil(lambda: not devices.busy(), timeout=120_000)
    return devices


def trust_on_one_sheet(qtbot, devices, ips: set[str]) -> None:  # type: ignore[no-untyped-def]
    """Trusts the new host keys of the devices at ``ips`` on the trust sheet (others unticked), then
    waits for their probes; nothing to do when all of them are trusted already."""
    if not any(d.untrusted and d.ip in ips for d in devices.rows()):
        return
    task = devices.trust_devices()
    sheets: list[TrustSheet] = []

    def visible() -> bool:
        sheets[:] = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, TrustSheet) and w.isVisible()]
        return bool(sheets)

    qtbot.waitUntil(visible, timeout=10_000)
    sheet = sheets[0]
    for device in sheet.devices:
        assert device.fingerprint.startswith("SHA256:")
        sheet.set_checked(device.id, device.ip in ips)
    sheet.accept()
    qtbot.waitUntil(task.done, timeout=120_000)


def visible_dialog(qtbot, kind: type[DialogT], timeout: int = 10_000) -> DialogT:  # type: ignore[no-untyped-def]
    """The dialog of ``kind`` on screen, once it is."""
    found: list[DialogT] = []

    def visible() -> bool:
        found[:] = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
        return bool(found)

    qtbot.waitUntil(visible, timeout=timeout)
    return found[0]


def complete_row(complete, device_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A Complete page row as shown, by column title; selected, so the action buttons act on it."""
    from sdv_studio.gui.pages.complete import COLUMNS

    for row in range(complete.table.rowCount()):
        if complete.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == device_id:
            complete.table.selectRow(row)
            return {title: complete.table.item(row, c).text() for c, title in enumerate(COLUMNS)}
    raise AssertionError(f"no row for {device_id}")


def reported(qtbot, engines, device, app: str) -> list[AppState]:  # type: ignore[no-untyped-def]
    """What ``device`` says it runs of ``app``, asked through the engine's status call apart from the GUI."""
    from sdv_studio.core.deploy.app_control import device_status
    from sdv_studio.core.deploy.service import DeviceRef

    approvals = engines.deployer.approvals
    ref = DeviceRef(device.id, approvals.target(device))
    asking = asyncio.ensure_future(device_status(ref, approvals.trust(), 30))
    qtbot.waitUntil(asking.done, timeout=60_000)
    answer = asking.result()
    assert answer.error is None, answer.error
    return [a for a in answer.apps if a.name == app]
