"""Log windows on rig devices: one per device and app, following the app's new lines until closed."""

from __future__ import annotations

import dataclasses
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.log_window import LogWindow
from tests.core.deploy.conftest import AGENT, FAST, deploy, light_package, trust  # noqa: F401 - fixtures
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device as RigDevice
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig]


def _started(device: RigDevice, app: str) -> str:
    """The line the agent wrote into the app's log when it started the instance running now."""
    answer = json.loads(device.run(f"{AGENT} logs '{json.dumps({'name': app, 'lines': 400})}'",
                                   user=LOGIN_USER).stdout)
    return next(line for line in reversed(answer["lines"]) if "] starting " in line)


def _ticks(window: LogWindow, since: str) -> list[int]:
    """The tick numbers the window shows after the line ``since`` (none until it shows that line).
    The log's tail arrives in pieces: older instances' ticks come first and are not the ones followed."""
    text = window.text.toPlainText()
    if since not in text:
        return []
    lines = text.rsplit(since, 1)[1].splitlines()
    return [int(line[5:]) for line in lines if re.fullmatch(r"tick \d+", line)]


def _wait_for_ticks(qtbot, windows: list[LogWindow], done, timeout: int) -> None:  # type: ignore[no-untyped-def]
    """``qtbot.waitUntil``, failing with what each window shows (a stall seen once in a full run)."""
    try:
        qtbot.waitUntil(done, timeout=timeout)
    except Exception as exc:  # pytest-qt's TimeoutError
        shown = "\n".join(f"--- {w.windowTitle()}\n" + "\n".join(w.text.toPlainText().splitlines()[-40:])
                          for w in windows)
        raise AssertionError(f"{exc}\n{shown}") from exc


@pytest.fixture
def deployed(rig: Rig, trust: HostKeyTrust, light_package: PackageFile, tmp_path: Path) -> list:  # type: ignore[type-arg]  # noqa: F811
    """The light app running on d5 and d6, deployed from a thread of its own (the Qt loop owns this one).
    Stop-start, not the package's hot swap: an earlier test may have left this same release running,
    and under hot swap its instance keeps writing into the same release log for a moment after the
    new one's start line (seen in CI: "tick 1", "tick 289", "tick 2")."""
    targets = [rig["d5"], rig["d6"]]
    options = dataclasses.replace(FAST, hot_swap=False)
    with ThreadPoolExecutor(1) as pool:
        result, _ = pool.submit(deploy, rig, targets, light_package, trust,
                                DeploymentRecords(tmp_path / "records"), options).result(timeout=600)
    assert result.status == "completed"
    return targets


def test_log_windows_follow_side_by_side_then_stop(  # type: ignore[no-untyped-def]
        rig: Rig, deployed: list, qtbot, qt_loop, light_package: PackageFile, tmp_path: Path,  # type: ignore[type-arg]  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, rig_known_hosts: Path) -> None:
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.running_tasks import RunningTasks

    targets = deployed
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "known_hosts").write_text(rig_known_hosts.read_text())
    monkeypatch.setenv("SDV_STUDIO_HOME", str(home))
    engines, tasks = default_engines(), RunningTasks()
    windows = []
    starts = [_started(dev, light_package.name) for dev in targets]  # the instances the windows must follow
    with rig.in_workstation():
        for dev in targets:
            device = Device(id=dev.name, name=dev.name, ip=dev.ip, user=rig.user, identity=str(rig.key_path))
            window = LogWindow(device, light_package.name)
            qtbot.addWidget(window)
            window.follow_stream(lambda d=device: engines.deployer.follow_logs(d, light_package.name), tasks.start)
            window.show()
            windows.append(window)
        assert [w.windowTitle() for w in windows] == [f"light on {d.name} — log" for d in targets]
        # Following: the running instance's ticks keep arriving after the tail, in order.
        pairs = list(zip(windows, starts, strict=True))
        _wait_for_ticks(qtbot, windows, lambda: all(_ticks(w, since) for w, since in pairs), 60_000)
        first = [len(_ticks(w, since)) for w, since in pairs]
        _wait_for_ticks(qtbot, windows, lambda: all(len(_ticks(w, since)) >= n + 2
                                                    for (w, since), n in zip(pairs, first, strict=True)), 30_000)
        for w, since in pairs:  # the running instance's lines, none lost or repeated
            new = _ticks(w, since)
            assert new == list(range(new[0], new[0] + len(new))), w.text.toPlainText()[-2000:]
        # Search, copy and save.
        window = windows[0]
        window.search.setText("tick 2")
        assert window.find_next() and window.text.textCursor().selectedText() == "tick 2"
        assert not window.follow.isChecked()  # a match stays in view
        window.copy()
        assert window.search.text() in window.text.toPlainText()
        window.save(tmp_path / "saved.log")
        assert "tick 2" in (tmp_path / "saved.log").read_text()
        # Closing one stops its stream (and only its).
        window.close()
        qtbot.waitUntil(lambda: window._task is not None and window._task.done(), timeout=10_000)
        before = len(_ticks(windows[1], starts[1]))
        qtbot.waitUntil(lambda: len(_ticks(windows[1], starts[1])) > before, timeout=15_000)
        windows[1].close()
        qtbot.waitUntil(lambda: len(tasks) == 0, timeout=10_000)
