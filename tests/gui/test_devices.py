"""Devices: host-key confirmation, password with keyring, scan cancel, subnet validation."""

from __future__ import annotations

from sdv_studio.gui.dialogs import DeviceDialog, PasswordDialog
from sdv_studio.gui.state import Step
from sdv_studio.gui.trust_sheet import TrustSheet
from tests.gui.fakes import FINGERPRINT
from tests.gui.helpers import configure_plain_app, go_to, visible_dialog


def _to_devices(window, qtbot):  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.DEVICES)
    page = window.page(Step.DEVICES)
    qtbot.waitUntil(lambda: page.devices["local"].compatible, timeout=5000)  # probed on entry
    return page


def test_added_device_key_on_the_trust_sheet_then_password(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    page = _to_devices(window, qtbot)
    engines.discovery.password_hosts.add("10.99.0.50")
    task = page.add_device()
    add = visible_dialog(qtbot, DeviceDialog)
    add.address.setText("10.99.0.50")
    add.user.setText("sdv")
    add.accept()
    sheet = visible_dialog(qtbot, TrustSheet)  # the scan's sheet, with this one device on it
    assert [(d.name, d.ip, d.key_type) for d in sheet.devices] == [("10.99.0.50", "10.99.0.50", "ssh-ed25519")]
    assert sheet.table.item(0, 3).text() == FINGERPRINT
    assert sheet.windowModality() is not None  # opened with open(), not exec()
    sheet.accept()
    password = visible_dialog(qtbot, PasswordDialog)
    password.password.setText("s3cret")
    password.remember.setChecked(True)
    password.accept()
    qtbot.waitUntil(task.done, timeout=3000)
    device = task.result()
    assert device is not None and device.id == "10.99.0.50"
    assert engines.discovery.trusted == {"10.99.0.50"}
    assert engines.discovery.remembered == {"10.99.0.50": "s3cret"}
    assert "10.99.0.50" in {d.id for d in page.selected()}


def test_rejecting_the_host_key_adds_nothing(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    page = _to_devices(window, qtbot)
    task = page.add_device()
    add = visible_dialog(qtbot, DeviceDialog)
    add.address.setText("10.99.0.60")
    add.accept()
    visible_dialog(qtbot, TrustSheet).reject()
    qtbot.waitUntil(task.done, timeout=3000)
    assert task.result() is None
    assert "10.99.0.60" not in page.devices
    assert engines.discovery.trusted == set()
    assert "not trusted" in page.stage.text()


def test_empty_address_is_refused_on_the_field(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = _to_devices(window, qtbot)
    task = page.add_device()
    add = visible_dialog(qtbot, DeviceDialog)
    add.accept()
    assert add.isVisible()
    assert add.address_field.error.text() == "Enter an address or host name"
    add.reject()
    qtbot.waitUntil(task.done, timeout=3000)


def test_scan_can_be_cancelled(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    page = _to_devices(window, qtbot)
    engines.discovery.delay = 0.5
    page.scan_btn.click()
    assert page.busy() and page.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: len(page.devices) == 2, timeout=3000)
    page.cancel_btn.click()
    qtbot.waitUntil(lambda: not page.busy(), timeout=1000)
    assert page.stage.text() == "Scan stopped: 1 found so far"
    assert page.scan_btn.isEnabled() and not page.cancel_btn.isEnabled()
    assert len(page.devices) == 2  # what was found stays


def test_subnet_errors_on_the_field(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = _to_devices(window, qtbot)
    page.subnet.setText("10.99.0.0/24, banana")
    page.scan_btn.click()
    assert not page.busy()
    assert "banana" in page.subnet_field.error.text()


def test_no_target_no_next(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = _to_devices(window, qtbot)
    assert window.next_btn.isEnabled()  # This computer is ticked by default
    page.table.item(0, 0).setCheckState(page.table.item(0, 0).checkState().Unchecked)
    assert not window.next_btn.isEnabled()


def test_one_row_per_device_through_trust_edit_and_rescan(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.adapters.discovery import Device

    new = [Device(id=f"10.99.0.{n}", name=f"10.99.0.{n}", ip=f"10.99.0.{n}", status="error", compatible=False,
                  key_type="ssh-ed25519", fingerprint=f"SHA256:key{n}", reason="new host key") for n in (70, 71)]
    engines.discovery.devices = [*engines.discovery.devices, *new]
    page = _to_devices(window, qtbot)
    page.scan_btn.click()
    qtbot.waitUntil(lambda: not page.busy(), timeout=3000)
    rows = page.table.rowCount()
    assert page.stage.text() == f"Scan finished: {rows - 1} found"
    task = page.trust_devices()
    sheet = visible_dialog(qtbot, TrustSheet)
    assert [d.ip for d in sheet.devices] == ["10.99.0.70", "10.99.0.71"]
    sheet.set_checked("10.99.0.71", False)
    sheet.accept()
    qtbot.waitUntil(task.done, timeout=3000)
    # Trusted and probed in place: the same row (the rig test covers the engine answering with a new id).
    assert page.table.rowCount() == rows
    assert page.devices["10.99.0.70"].compatible and "10.99.0.70" in {d.id for d in page.selected()}
    assert page.devices["10.99.0.71"].untrusted and "10.99.0.70" not in page.warnings.text()
    assert engines.discovery.trusted == {"10.99.0.70"}
    assert page.summary.text().startswith(f"{rows} devices")
    # Edited to another address: replaced, not added.
    task = page.add_device(page.devices["10.99.0.70"])
    edit = visible_dialog(qtbot, DeviceDialog)
    edit.address.setText("10.99.0.72")
    engines.discovery.trusted.add("10.99.0.72")
    edit.accept()
    qtbot.waitUntil(task.done, timeout=3000)
    assert page.table.rowCount() == rows and "10.99.0.70" not in page.devices


def test_a_device_row_opens_its_monitor_of_the_packaged_app(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    go_to(window, qtbot, Step.DEVICES)
    devices = window.page(Step.DEVICES)
    local = next(d for d in devices.rows() if d.local)
    monitor = devices.open_monitor(local)
    assert monitor.devices == [local] and monitor.app == window.ctx.state.app_package.stored.name
    qtbot.waitUntil(lambda: monitor.cards[local.id].health.text() == "running", timeout=5000)
    monitor.close()
    qtbot.waitUntil(lambda: not devices.monitors, timeout=5000)
