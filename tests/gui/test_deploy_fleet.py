"""Deploy with a fleet of 48: a row for each device, each ending with its device's result, and the
banner counting them all (bench/gui.py --fleet measures how responsive the window stays meanwhile)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.gui.adapters import Engines
from sdv_studio.gui.demo import demo_engines
from sdv_studio.gui.state import Step
from tests.gui.fakes import fleet
from tests.gui.helpers import configure_plain_app, go_to

FLEET = fleet(48)


@pytest.fixture
def engines(tmp_path: Path) -> Engines:
    return demo_engines(tmp_path, FLEET)


def test_48_devices_get_a_row_each_that_ends_with_its_result(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.DEVICES)
    devices = window.page(Step.DEVICES)
    devices.scan_btn.click()
    qtbot.waitUntil(lambda: not devices.busy() and {d.id for d in FLEET} <= set(devices.devices), timeout=30_000)
    devices._checked = {d.id for d in FLEET}
    go_to(window, qtbot, Step.DEPLOY)
    deploy = window.page(Step.DEPLOY)
    made_at_start = {d.id: deploy.progress_bar(d.id) for d in FLEET}
    for bar in made_at_start.values():
        bar.setProperty("madeAtStart", True)
    qtbot.waitUntil(deploy.is_complete, timeout=60_000)
    # Without waves the rows are laid out once: the bars made when the page opened are the ones shown.
    assert all(deploy.progress_bar(d.id).property("madeAtStart") for d in FLEET)
    assert deploy.table.rowCount() == len(FLEET)
    assert all(deploy.progress_bar(d.id).value() == 100 for d in FLEET)
    assert "All 48 devices are running the app." in deploy.banner.text()
