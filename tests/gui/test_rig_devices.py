"""The Devices and Kuksa steps against the rig's real devices: one row per device, many host keys
trusted on one sheet, This computer probed, and databrokers on a device's own loopback found by both steps."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio import __version__
from sdv_studio.broker.service_base import SERVER_NAME
from sdv_studio.gui.dialogs import DeviceDialog
from sdv_studio.gui.qt import Qt, QtWidgets
from sdv_studio.gui.state import Step
from sdv_studio.gui.trust_sheet import TrustSheet
from tests.core.kuksa.device_broker import broker_on
from tests.gui.helpers import scan_rig, visible_dialog
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig]


def _real_fingerprint(key_file: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(key_file)], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def _open_sheet(qtbot) -> TrustSheet:  # type: ignore[no-untyped-def]
    sheets: list[TrustSheet] = []

    def visible() -> bool:
        sheets[:] = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, TrustSheet) and w.isVisible()]
        return bool(sheets)

    qtbot.waitUntil(visible, timeout=10_000)
    return sheets[0]


@contextlib.contextmanager
def _window(rig: Rig, qtbot, qt_loop, settings) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    """The real engines in the rig's workstation."""
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.window import MainWindow

    with rig.in_workstation():
        executor = DaemonExecutor(workers=8)
        qt_loop.set_default_executor(executor)
        win = MainWindow(default_engines(), settings)
        win.show()
        try:
            yield win
        finally:
            win.close()
            qtbot.waitUntil(lambda: not win.tasks.busy, timeout=10_000)
            qt_loop.set_default_executor(qt_loop.sdv_executor)
            executor.shutdown(wait=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SDV Studio's home of its own: no host key known, no device saved, no scan defaults."""
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def rig_window(rig: Rig, qtbot, qt_loop, settings, home: Path) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    with _window(rig, qtbot, qt_loop, settings) as win:
        yield win


def test_bench_scale_trust_and_device_local_brokers(rig: Rig, rig_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    win = rig_window
    working = {d.ip: d for d in rig.working()}
    with broker_on(rig["d4"]):  # KUKSA's default bind: the device's own 127.0.0.1
        win.page(Step.DEVICES).initialize_page()
        devices = scan_rig(win, qtbot, rig)

        # One row per device; the count in the status line is the table's.
        rows = devices.rows()
        keys = [d.identity_key() for d in rows]
        assert len(keys) == len(set(keys)), keys
        scanned = [d for d in rows if not d.local]
        assert devices.stage.text() == f"Scan finished: {len(scanned)} found"
        assert devices.summary.text().startswith(f"{len(rows)} devices")
        untrusted = {d.ip: d for d in rows if d.untrusted}
        assert set(working) <= set(untrusted)
        assert "--accept-new-host-keys" not in devices.warnings.text()
        assert not devices.trust_btn.isHidden()  # the page is not on screen here

        # One sheet for all of them, each with the fingerprint the device really has.
        task = devices.trust_devices()
        sheet = _open_sheet(qtbot)
        assert {d.ip for d in sheet.devices} == set(untrusted)
        for row, offered in enumerate(sheet.devices):
            dev = next(d for d in rig.devices.values() if d.ip == offered.ip)
            assert sheet.table.item(row, 3).text() == _real_fingerprint(dev.host_key_fingerprint_file())
            assert sheet.table.item(row, 2).text() == "ssh-ed25519"
            if offered.ip not in working:
                sheet.set_checked(offered.id, False)
        assert sheet.accept_btn.text() == f"Trust and connect to {len(working)}"
        sheet.accept()
        qtbot.waitUntil(task.done, timeout=120_000)

        # Trusted rows were filled in place: same rows, probed, ready; the rest unchanged.
        rows = devices.rows()
        assert [d.identity_key() for d in rows] == keys
        by_ip = {d.ip: d for d in rows}
        for ip in working:
            assert by_ip[ip].compatible and by_ip[ip].status == "online", by_ip[ip]
            assert not by_ip[ip].untrusted and ip not in devices.warnings.text()
        leftover = set(untrusted) - set(working)
        assert all(by_ip[ip].untrusted for ip in leftover)
        assert devices.summary.text().startswith(f"{len(rows)} devices · {len(working) + 1} compatible")
        assert by_ip[rig["d1"].ip].type == "jetson-orin"

        # KUKSA column: "Yes" exactly where a databroker answers, on the loopback of d4.
        kuksa_col = {devices.table.item(r, 0).data(Qt.ItemDataRole.UserRole): devices.table.item(r, 5).text()
                     for r in range(devices.table.rowCount())}
        assert kuksa_col[by_ip[rig["d4"].ip].id] == "Yes"
        assert [(b.port, b.local_only) for b in by_ip[rig["d4"].ip].brokers] == [(55555, True)]

        # A re-scan updates the same rows.
        devices.scan_btn.click()
        qtbot.waitUntil(lambda: not devices.busy(), timeout=120_000)
        assert [d.identity_key() for d in devices.rows()] == keys
        assert all(devices.devices[by_ip[ip].id].compatible for ip in working)

        # The Kuksa step probes the same devices over SSH and agrees with the column.
        win.ctx.state.selected_devices = devices.selected()
        kuksa = win.page(Step.KUKSA)
        kuksa.start_detect(force=True)
        qtbot.waitUntil(lambda: not kuksa.busy(), timeout=60_000)
        with_broker = {b.host for b in kuksa.brokers if b.kind == "databroker"}
        for device in devices.selected():
            host = "127.0.0.1" if device.local else device.ip
            assert (host in with_broker) == device.kuksa, (device.name, kuksa.stage.text())
        d4_broker = next(b for b in kuksa.brokers if b.host == rig["d4"].ip)
        assert (d4_broker.port, d4_broker.local_only, d4_broker.vss_version) == (55555, True, "4.0.0")
        assert "kuksa.val.v2" in d4_broker.apis
        assert kuksa.stage.text().startswith(f"{len(with_broker)} databroker")
        row = next(r for r, b in enumerate(kuksa.brokers) if b is d4_broker)
        assert kuksa.table.item(row, 0).text() == f"{by_ip[rig['d4'].ip].name} · 127.0.0.1"

        # Test connection reaches it where it listens, on d4's loopback, through d4's SSH connection.
        kuksa.table.selectRow(row)
        testing = kuksa.test_connection()
        qtbot.waitUntil(testing.done, timeout=30_000)
        assert kuksa.banner.property("kind") == "ok", kuksa.banner.text()
        assert kuksa.banner.text().startswith(
            f"Connected to {SERVER_NAME} {__version__} at 127.0.0.1:55555 on {by_ip[rig['d4'].ip].name} in ")


def test_device_added_by_hand_is_trusted_on_the_sheet(rig: Rig, rig_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.dialogs import DeviceDialog

    devices = rig_window.page(Step.DEVICES)
    rows = devices.table.rowCount()
    task = devices.add_device()
    add = visible_dialog(qtbot, DeviceDialog)
    add.address.setText(rig["d6"].ip)
    add.user.setText(rig.user)
    add.identity.setText(str(rig.key_path))
    add.accept()
    sheet = visible_dialog(qtbot, TrustSheet)  # one device on the scan's sheet, its key as the device has it
    assert [d.ip for d in sheet.devices] == [rig["d6"].ip]
    assert sheet.table.item(0, 3).text() == _real_fingerprint(rig["d6"].host_key_fingerprint_file())
    sheet.accept()
    qtbot.waitUntil(task.done, timeout=60_000)
    added = task.result()
    assert added is not None and added.compatible and added.status == "online", added
    assert devices.table.rowCount() == rows + 1 and added.id in {d.id for d in devices.selected()}


def test_this_computer_probed_like_a_device(rig: Rig, rig_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    devices = rig_window.page(Step.DEVICES)
    assert devices.devices["local"].reason == "Probing…" and not devices.selected()  # not Ready unprobed
    devices.initialize_page()
    qtbot.waitUntil(lambda: devices.devices["local"].reason != "Probing…", timeout=30_000)
    local = devices.devices["local"]
    # Docker counts only if this user's engine answers, not because a docker binary exists.
    engine = subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0 \
        if subprocess.run(["sh", "-c", "command -v docker"], capture_output=True).returncode == 0 else False
    assert (local.runtime in ("docker", "both")) == engine, local
    assert local.python and local.compatible and "probe" in local.sources


def test_devices_step_scans_this_computers_subnets_on_entry_with_remembered_fields(  # type: ignore[no-untyped-def]
        rig: Rig, qtbot, qt_loop, settings, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sdv_studio.core import scan_defaults

    user_home = tmp_path / "user"
    (user_home / ".ssh").mkdir(parents=True)
    for suffix in ("", ".pub"):
        shutil.copy(str(rig.key_path) + suffix, user_home / ".ssh" / f"id_ed25519{suffix}")
    monkeypatch.setenv("HOME", str(user_home))
    scan_defaults.save(scan_defaults.ScanDefaults(user=rig.user, identity=str(user_home / ".ssh" / "id_ed25519")))
    with _window(rig, qtbot, qt_loop, settings) as win:
        devices = win.page(Step.DEVICES)
        assert (devices.subnet.text(), devices.user.text()) == ("", rig.user)
        keys = devices.identity.completer().model()
        assert [keys.index(r, 0).data() for r in range(keys.rowCount())] == [str(user_home / ".ssh" / "id_ed25519")]
        devices.initialize_page()  # entering the step: the workstation's own subnet (the rig's LAN) is swept
        assert devices.busy()
        qtbot.waitUntil(lambda: not devices.busy(), timeout=120_000)
        found = {d.ip for d in devices.rows()}
        assert {d.ip for d in rig.working()} <= found, devices.stage.text()
        assert devices.stage.text() == f"Scan finished: {len(found) - 1} found"
        devices.subnet.setText(rig.sweep_cidr)
        devices.validate_page()
    assert scan_defaults.load() == scan_defaults.ScanDefaults(rig.sweep_cidr, rig.user,
                                                              str(user_home / ".ssh" / "id_ed25519"))


def test_saved_devices_listed_and_probed_before_any_scan(  # type: ignore[no-untyped-def]
        rig: Rig, qtbot, qt_loop, settings, home: Path, rig_known_hosts: Path) -> None:
    from sdv_studio.core import scan_defaults
    from sdv_studio.core.inventory import Inventory, SavedDevice

    (home / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(rig_known_hosts, home / "config" / "known_hosts")
    scan_defaults.save(scan_defaults.ScanDefaults(user=rig.user, identity=str(rig.key_path), scan_on_entry=False))
    for name in ("d2", "d3"):
        Inventory().add(SavedDevice(id=name, name=name, host=rig[name].ip, user=rig.user))
    with _window(rig, qtbot, qt_loop, settings) as win:
        devices = win.page(Step.DEVICES)
        devices.initialize_page()
        qtbot.waitUntil(lambda: not devices.busy(), timeout=60_000)
        rows = {d.ip: d for d in devices.rows() if not d.local}
        assert set(rows) == {rig["d2"].ip, rig["d3"].ip}  # listed, and nothing swept
        assert all(d.compatible and d.status == "online" and d.runtime in ("docker", "both") for d in rows.values())
        assert devices.stage.text() == "Saved devices: 2 found"

        # The saved d2 edited to another address: the same saved device (by its id), moved; still one row.
        task = devices.add_device(rows[rig["d2"].ip])
        edit = visible_dialog(qtbot, DeviceDialog)
        edit.address.setText(rig["d4"].ip)
        edit.accept()
        qtbot.waitUntil(task.done, timeout=60_000)
        assert task.result() is not None and task.result().id == "d2", devices.banner.text()
        assert {d.id: d.host for d in Inventory().devices()} == {"d2": rig["d4"].ip, "d3": rig["d3"].ip}
        assert sorted(d.ip for d in devices.rows() if not d.local) == sorted([rig["d3"].ip, rig["d4"].ip])


def test_refused_sign_in_is_explained_with_gui_actions(rig: Rig, rig_window, qtbot, rig_known_hosts: Path,  # type: ignore[no-untyped-def]
                                                       home: Path) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(rig_known_hosts, home / "config" / "known_hosts")
    devices = scan_rig(rig_window, qtbot, rig)
    d8 = next(d for d in devices.rows() if d.ip == rig["d8"].ip)  # its sshd does not accept our key
    assert d8.status == "error" and "authentication refused" in d8.reason, d8
    assert "double-click to sign in with a password" in d8.reason and "--identity" not in d8.reason
    assert "--" not in devices.warnings.text()
