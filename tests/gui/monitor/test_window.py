"""The Monitor window fed the core's events by hand: what the cards and plots show of them, a device
whose link drops, adding a signal, pause, and the CSV export. What real devices send is the rig
test's (test_rig_monitor.py)."""

from __future__ import annotations

import asyncio
import csv
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from sdv_studio.core.errors import OperationFailed
from sdv_studio.core.monitor import LinkDown, LinkUp, MetricsSample, MonitorEvent, SignalUpdate, Subscribed
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.monitor.window import MonitorWindow
from sdv_studio.gui.running_tasks import RunningTasks
from tests.gui.monitor.test_model import LOW_BEAM, metrics

DEVICES = [Device(id=f"d{i}", name=f"d{i}", ip=f"10.99.0.{i}") for i in (1, 2)]


class HandFed:
    """An engine whose events the test puts (a failure put is raised); each watch is recorded with
    the signals it asked for."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[MonitorEvent | OperationFailed] = asyncio.Queue()
        self.watches: list[tuple[str, ...]] = []

    async def watch(self, devices: list[Device], app: str | None,
                    signals: tuple[str, ...]) -> AsyncIterator[MonitorEvent]:
        self.watches.append(signals)
        while True:
            event = await self.events.get()
            if isinstance(event, OperationFailed):
                raise event
            yield event


@pytest.fixture
def fed(qtbot, qt_loop):  # type: ignore[no-untyped-def]
    engine, tasks = HandFed(), RunningTasks()
    window = MonitorWindow(DEVICES, "blinker", engine)
    qtbot.addWidget(window)
    window.start(tasks.start)
    window.show()
    yield window, engine
    window.close()
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5000)


def put(engine: HandFed, *events: MonitorEvent) -> None:
    for event in events:
        engine.events.put_nowait(event)


def curve(window: MonitorWindow, path: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = window.plots.plots[path].curves[index].getData()
    return np.asarray(x), np.asarray(y)


def test_cards_and_plots_follow_the_events_and_a_dropped_link_leaves_a_gap(fed, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, engine = fed
    now = time.time()
    for device in DEVICES:
        samples = [(now - 2, 2.0, 30 * 2**20), (now - 1, 3.0, 31 * 2**20)]
        put(engine, LinkUp(device.id), Subscribed(device.id, "127.0.0.1:55555", (LOW_BEAM,), ()),
            MetricsSample(device.id, metrics(device.id, now, samples)),
            SignalUpdate(device.id, LOW_BEAM, True, now - 3, now - 3),
            SignalUpdate(device.id, LOW_BEAM, False, None, now - 2))
    qtbot.waitUntil(lambda: getattr(window.plots.plots.get(LOW_BEAM), "kind", None) == "bool", timeout=5000)
    qtbot.waitUntil(lambda: len(curve(window, LOW_BEAM, 1)[0]) == 4, timeout=5000)
    card = window.cards["d1"]
    qtbot.waitUntil(lambda: card.health.text() == "running", timeout=5000)  # the cards' own turn, after the plots'
    assert card.badge.isHidden()
    assert card.cpu_caption.text() == "CPU  <b>3.0 %</b>" and "31 MB" in card.memory_caption.text()
    assert "Restarts</span> <b>2</b>" in card.figures.text() and "1.5 / 4.0 ms" in card.figures.text()
    # Two steps per device, each on its own lane, the last value held up to now.
    x, y = curve(window, LOW_BEAM, 0)
    assert list(y) == [1.7, 1.7, 1.0, 1.0] and x[-1] == pytest.approx(window.shown[1])

    put(engine, LinkDown("d2", "no answer from the device for 5s", 2.0))
    qtbot.waitUntil(lambda: not window.cards["d2"].badge.isHidden(), timeout=5000)
    assert window.cards["d2"].badge.text() == "link down · retry in 2 s"
    health = window.cards["d2"].health  # no longer what the device says: what it said last
    assert health.text() == "was running" and health.property("kind") == "muted"
    assert health.toolTip().startswith("The last health d2 reported, at ")
    assert "link down: d2" in window.status.text()
    qtbot.waitUntil(lambda: math.isnan(curve(window, LOW_BEAM, 1)[1][-1]), timeout=5000)
    # d2 is no longer drawn up to now; d1 still is, and keeps moving with the clock.
    before = curve(window, LOW_BEAM, 0)[0][-1]
    qtbot.waitUntil(lambda: curve(window, LOW_BEAM, 0)[0][-1] > before, timeout=5000)
    assert curve(window, LOW_BEAM, 1)[0][-1] < curve(window, LOW_BEAM, 0)[0][-1]

    put(engine, LinkUp("d2"), Subscribed("d2", "127.0.0.1:55555", (LOW_BEAM,), ()),
        SignalUpdate("d2", LOW_BEAM, True, None, time.time()))
    qtbot.waitUntil(lambda: window.cards["d2"].badge.isHidden(), timeout=5000)
    assert window.cards["d2"].health.text() == "running"
    x, y = curve(window, LOW_BEAM, 1)
    assert np.isnan(y).any() and y[-1] == pytest.approx(0.7)  # the gap stays where it was; d2 is back on

    saved = window.export_csv(tmp_path / "shown.csv")
    with (tmp_path / "shown.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert saved == len(rows) == 6
    assert [r["event"] for r in rows if r["device"] == "d2"] == ["value", "value", "gap", "value"]
    assert {r["value"] for r in rows if r["event"] == "value"} == {"true", "false"}


def test_adding_a_signal_watches_it_too_and_a_typo_is_said_on_the_field(fed, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, engine = fed
    qtbot.waitUntil(lambda: engine.watches == [()], timeout=5000)
    window.signal_input.setText("Vehicle..Speed")
    assert not window.add_signal()
    assert window.signal_field.error_text() == "Expected a VSS path such as Vehicle.Speed"
    window.signal_input.setText("Vehicle.Speed")
    assert window.add_signal()
    qtbot.waitUntil(lambda: engine.watches == [(), ("Vehicle.Speed",)], timeout=5000)
    assert window.signal_field.error_text() == "" and window.chosen() == ["Vehicle.Speed"]
    put(engine, LinkUp("d1"), Subscribed("d1", "127.0.0.1:55555", ("Vehicle.Speed",), ()),
        SignalUpdate("d1", "Vehicle.Speed", 42.0, None, time.time()))
    qtbot.waitUntil(lambda: window.plots.plots.get("Vehicle.Speed") is not None
                    and window.plots.plots["Vehicle.Speed"].kind == "number", timeout=5000)
    qtbot.waitUntil(lambda: list(curve(window, "Vehicle.Speed", 0)[1]) == [42.0, 42.0], timeout=5000)


def test_pause_holds_the_span_and_the_window_sets_its_width(fed, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, _engine = fed
    qtbot.waitUntil(lambda: window.shown[1] > 0, timeout=5000)
    window.window_box.setCurrentIndex(window.window_box.findData(10))
    start, end = window.shown
    assert end - start == pytest.approx(10.0)
    window.pause_btn.click()
    held = window.shown
    qtbot.wait(600)
    assert window.shown == held and window.pause_btn.text() == "Resume" and "paused" in window.status.text()
    window.pause_btn.click()
    qtbot.waitUntil(lambda: window.shown[1] > held[1], timeout=5000)
    window.window_box.setCurrentIndex(window.window_box.findData(900))
    assert window.shown[1] - window.shown[0] == pytest.approx(900.0)


def test_a_stream_that_fails_says_why_and_goes_on_saying_it(fed, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, engine = fed
    engine.events.put_nowait(OperationFailed("metrics: the agent refused"))
    qtbot.waitUntil(lambda: window.status.text().startswith("Monitoring stopped: metrics: the agent refused"),
                    timeout=5000)
    qtbot.wait(600)  # redraws go on with the clock
    assert window.status.text().startswith("Monitoring stopped: metrics: the agent refused")


def test_only_the_plots_in_sight_are_drawn_and_a_held_view_draws_a_plot_scrolled_to(fed, qtbot) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.qt import Qt

    window, engine = fed
    window.resize(1000, 640)  # room for two or three of the eight plots
    paths = tuple(f"Vehicle.Acceleration.S{i}" for i in range(8))
    now = time.time()
    put(engine, LinkUp("d1"), Subscribed("d1", "127.0.0.1:55555", paths, ()),
        *(SignalUpdate("d1", path, float(i), None, now) for i, path in enumerate(paths)))
    qtbot.waitUntil(lambda: window.signal_list.count() == len(paths), timeout=5000)
    for i in range(window.signal_list.count()):
        window.signal_list.item(i).setCheckState(Qt.CheckState.Checked)
    first, last = paths[0], paths[-1]
    qtbot.waitUntil(lambda: len(curve(window, first, 0)[1]) > 0, timeout=5000)
    qtbot.wait(600)  # redraws go on: the last plot, out of sight, is still not drawn
    assert len(curve(window, last, 0)[1]) == 0
    window.pause_btn.click()
    bar = window.plots.parentWidget().parentWidget().verticalScrollBar()  # the plots' scroll area
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: list(curve(window, last, 0)[1])[:1] == [7.0], timeout=5000)
    assert window.plots.plots[last].span == window.shown  # drawn with the span held


def test_ticking_a_signal_keeps_the_plots_already_shown_and_unticking_removes_only_its_own(fed, qtbot) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.qt import Qt

    window, engine = fed
    paths = tuple(f"Vehicle.Acceleration.S{i}" for i in range(3))
    now = time.time()
    put(engine, LinkUp("d1"), Subscribed("d1", "127.0.0.1:55555", paths, ()),
        *(SignalUpdate("d1", path, float(i), None, now) for i, path in enumerate(paths)))
    qtbot.waitUntil(lambda: list(window.plots.plots) == list(paths), timeout=5000)  # the first ones, ticked
    items = {path: window.plots.plots[path].item for path in paths}
    window.signal_list.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert list(window.plots.plots) == [paths[0], paths[2]]
    assert [p.item for p in window.plots.plots.values()] == [items[paths[0]], items[paths[2]]]
    assert window.plots.plots[paths[2]].item.getAxis("bottom").isVisible()  # the time axis under the last
    window.signal_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert list(window.plots.plots) == list(paths)  # back in the list's order, a new plot for the middle one
    assert window.plots.plots[paths[1]].item is not items[paths[1]]
    assert window.plots.plots[paths[0]].item is items[paths[0]] and window.plots.plots[paths[2]].item is items[paths[2]]
    assert not window.plots.plots[paths[0]].item.getAxis("bottom").isVisible()
    qtbot.waitUntil(lambda: list(curve(window, paths[1], 0)[1])[:1] == [1.0], timeout=5000)


def test_cards_take_their_news_a_few_at_a_time_after_a_redraw_and_none_is_left_behind(qtbot, qt_loop) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.monitor.window import CARDS_PER_TURN

    devices = [Device(id=f"d{i}", name=f"d{i}", ip=f"10.99.0.{i}") for i in range(1, 7)]
    window = MonitorWindow(devices, "blinker", HandFed())
    qtbot.addWidget(window)
    now = time.time()

    def running() -> list[str]:
        return [d.id for d in devices if window.cards[d.id].health.text() == "running"]

    for device in devices:
        window.model.take(MetricsSample(device.id, metrics(device.id, now, [(now - 1, 3.0, 31 * 2**20)])))
    window.redraw()
    assert running() == []  # not in the plots' turn of the loop: in turns of their own, after it
    qtbot.waitUntil(lambda: len(running()) == len(devices), timeout=5000)

    # A card updated moves to the back: news that keeps coming for two cards does not hold back a third.
    def news(device_id: str, t: float, cpu: float) -> None:
        window.model.take(MetricsSample(device_id, metrics(device_id, t, [(t - 1, cpu, 31 * 2**20)])))

    def cpu(device_id: str) -> str:
        return window.cards[device_id].cpu_caption.text()

    for device_id in ("d3", "d4", "d5"):
        news(device_id, now + 1, 5.0)
    window.show_cards()  # one turn, by hand
    assert CARDS_PER_TURN == 2
    assert [cpu(d) for d in ("d3", "d4", "d5")] == ["CPU  <b>5.0 %</b>"] * 2 + ["CPU  <b>3.0 %</b>"]
    for device_id in ("d3", "d4"):
        news(device_id, now + 2, 7.0)
    window.show_cards()
    assert [cpu(d) for d in ("d3", "d4", "d5")] == ["CPU  <b>7.0 %</b>", "CPU  <b>5.0 %</b>", "CPU  <b>5.0 %</b>"]
    window.close()
