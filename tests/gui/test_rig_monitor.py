"""The Monitor view against the rig: the playground's default app on its six devices, watched from
the GUI. The low beam's toggles are plotted for every device from the values the devices' databrokers
send, the cards show each app's CPU and memory; a device whose cable is pulled shows a gap and a badge
while the others go on, and comes back by itself when it is plugged in again.

SDV_MONITOR_SCREENSHOT=PATH keeps the window's picture, taken while the cable is out (README's).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from sdv_studio.core.deploy import DeployOptions
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.security import tokens
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.monitor.plots import LANE
from sdv_studio.gui.monitor.window import MonitorWindow
from tests.core.deploy.conftest import APPS, build, deploy
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

APP = "playground"
LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
CUT = "d5"


@pytest.fixture(scope="module")
def playground(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The playground's app running on the rig's six devices, deployed from a thread of its own (the
    Qt loop owns this one); their names."""
    tmp = tmp_path_factory.mktemp("monitor")
    package: PackageFile = build(tmp, APPS / "playground_default.py", APP, platforms=["x86_64"])
    trust = HostKeyTrust(KnownHosts(tmp / "known_hosts"), accept_new=True)
    devices = rig.working()
    assert len(devices) == 6
    with ThreadPoolExecutor(1) as pool:
        result, _ = pool.submit(deploy, rig, devices, package, trust, DeploymentRecords(tmp / "records"),
                                DeployOptions(grace_seconds=2.0)).result(timeout=1200)
    assert result.status == "completed", [(d.device_id, d.message, d.logs[-5:]) for d in result.devices]
    return [d.name for d in devices]


def _lanes(window: MonitorWindow, device: str) -> set[float]:
    """The levels the low beam's plot draws for ``device``: its lane's off and on heights."""
    plot = window.plots.plots[LOW_BEAM]
    index = [d.id for d in window.devices].index(device)
    _x, y = plot.curves[index].getData()
    base = len(window.devices) - 1 - index
    return {round(float(v) - base, 3) for v in np.asarray(y) if not math.isnan(v)}


def _toggled(window: MonitorWindow, device: str) -> bool:
    """Both values came from the device's databroker, and both are drawn."""
    trace = window.model.trace(device, LOW_BEAM)
    return (trace is not None and trace.values() == {True, False}
            and LOW_BEAM in window.plots.plots and _lanes(window, device) == {0.0, LANE})


def _wait(qtbot, window: MonitorWindow, check: Callable[[], bool], timeout: int) -> None:  # type: ignore[no-untyped-def]
    """``qtbot.waitUntil``, failing with what the window knows of each device."""
    try:
        qtbot.waitUntil(check, timeout=timeout)
    except Exception as exc:  # pytest-qt's TimeoutError
        shown = []
        for state in window.model.devices.values():
            trace = window.model.trace(state.id, LOW_BEAM)
            shown.append(f"{state.name}: {state.link} {state.problem!r} signals={state.signals} note={state.note!r} "
                         f"values={trace.values() if trace else None} cpu samples={state.cpu.n}")
        raise AssertionError(f"{exc}\n{window.status.text()}\n" + "\n".join(shown)) from exc


def _values_after_gap(window: MonitorWindow, device: str) -> int:
    trace = window.model.trace(device, LOW_BEAM)
    if trace is None:
        return 0
    gaps = np.flatnonzero(np.isnan(trace.v))
    return 0 if not len(gaps) else int(trace.n - gaps[-1] - 1)


def test_monitor_plots_six_devices_and_a_pulled_cable_leaves_a_gap(  # type: ignore[no-untyped-def]
        rig: Rig, playground: list[str], qtbot, qt_loop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        rig_known_hosts: Path) -> None:
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.running_tasks import RunningTasks

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "known_hosts").write_text(rig_known_hosts.read_text())
    # The deployments' databrokers check tokens signed with this workstation's key: the same one here.
    shutil.copy2(tokens.key_path(), home / "config" / tokens.KEY_FILE)
    monkeypatch.setenv("SDV_STUDIO_HOME", str(home))
    engines, tasks = default_engines(), RunningTasks()
    cut = rig[CUT]
    with rig.in_workstation():
        executor = DaemonExecutor(workers=8)  # its threads on the rig's LAN too
        qt_loop.set_default_executor(executor)
        devices = [Device(id=name, name=name, ip=rig[name].ip, user=rig.user, identity=str(rig.key_path))
                   for name in playground]
        window = MonitorWindow(devices, APP, engines.monitor)
        window.resize(1400, 900)
        try:
            window.start(tasks.start)
            window.show()
            # Every device's low beam plotted on and off, from what its databroker sent.
            _wait(qtbot, window, lambda: all(_toggled(window, d) for d in playground), 120_000)
            assert window.chosen() == [LOW_BEAM]
            assert all(window.model.devices[d].signals == (LOW_BEAM,) for d in playground)
            # And each app's CPU and memory, as the devices sampled them.
            _wait(qtbot, window, lambda: all(window.model.devices[d].cpu.n >= 3 for d in playground), 30_000)
            for name in playground:
                card, state = window.cards[name], window.model.devices[name]
                assert card.health.text() == "running" and card.badge.isHidden(), (name, card.badge.text())
                assert 0 < state.memory.last_value() < 512 and "MB" in card.memory_caption.text()
                assert not math.isnan(state.cpu.last_value()) and "%" in card.cpu_caption.text()
                assert "Restarts" in card.figures.text() and "p50 / p95" in card.figures.text()

            # The cable pulled once there are 20 s of toggles to see (in a 30 s window, for the picture):
            # a gap and a badge on that device; the others keep toggling.
            window.window_box.setCurrentIndex(window.window_box.findData(30))
            first = min(float(window.model.trace(d, LOW_BEAM).t[0]) for d in playground)  # type: ignore[union-attr]
            qtbot.waitUntil(lambda: window.shown[1] - first >= 20, timeout=30_000)
            others = [d for d in playground if d != CUT]
            counts = {d: window.model.trace(d, LOW_BEAM).n for d in others}  # type: ignore[union-attr]
            cut.link(False)
            try:
                _wait(qtbot, window, lambda: window.cards[CUT].badge.isVisible()
                      and window.cards[CUT].badge.text().startswith("link down"), 30_000)
                trace = window.model.trace(CUT, LOW_BEAM)
                assert trace is not None and math.isnan(trace.last_value())
                qtbot.waitUntil(lambda: math.isnan(window.plots.plots[LOW_BEAM].curves[
                    playground.index(CUT)].getData()[1][-1]), timeout=5_000)
                _wait(qtbot, window, lambda: all(window.model.trace(d, LOW_BEAM).n >= counts[d] + 2  # type: ignore[union-attr]
                                                 for d in others), 30_000)
                assert all(window.cards[d].badge.isHidden() for d in others)
                assert f"link down: {CUT}" in window.status.text()
                picture = tmp_path / "monitor.png"
                assert window.grab().save(str(picture)) and picture.stat().st_size > 50_000
                if os.environ.get("SDV_MONITOR_SCREENSHOT"):
                    shutil.copyfile(picture, os.environ["SDV_MONITOR_SCREENSHOT"])
            finally:
                cut.link(True)
            # Plugged back: it reconnects by itself, its toggles resume after the gap.
            _wait(qtbot, window, lambda: window.cards[CUT].badge.isHidden(), 60_000)
            _wait(qtbot, window, lambda: _values_after_gap(window, CUT) >= 2, 30_000)
            assert window.model.devices[CUT].heard
        finally:
            window.close()
            qtbot.waitUntil(lambda: not tasks.busy, timeout=15_000)
            qt_loop.set_default_executor(qt_loop.sdv_executor)
            executor.shutdown(wait=False)
