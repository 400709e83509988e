"""The Monitor view's model: values per device and signal, gaps where a device was not heard, the
figures the cards show, and the CSV rows of a span."""

from __future__ import annotations

import math

from sdv_studio.core.monitor import BrokerDown, LinkDown, LinkUp, MetricsSample, SignalUpdate, Subscribed
from sdv_studio.gui.monitor.model import RETENTION, MonitorModel, Trace
from sdv_studio.models.metrics import DeviceMetrics

LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def metrics(device: str, t: float, history: list[tuple[float, float, int]]) -> DeviceMetrics:
    return DeviceMetrics.from_agent(device, {
        "cpu": {"percent": 4.0}, "memory": {"percent": 30.0}, "disk": {}, "timestamp": t, "interval": 1.0,
        "apps": [{"name": "blinker", "status": "running", "restarts": 2, "uptime": 75.0, "cpu_usage": 3.5,
                  "rss": 40 * 2**20, "errors": 1, "kuksa_latency": {"p50": 1.5, "p95": 4.0, "calls": 9, "window": 60}}],
        "history": [{"t": ht, "cpu": 1.0, "memory": 30.0, "apps": {"blinker": {"cpu": cpu, "rss": rss}}}
                    for ht, cpu, rss in history]})


def test_values_per_device_and_signal_with_their_kind() -> None:
    model = MonitorModel([("a", "dev-a"), ("b", "dev-b")], "blinker", Clock())
    model.take(LinkUp("a"))
    model.take(Subscribed("a", "127.0.0.1:55555", (LOW_BEAM,), ("Vehicle.Nope",)))
    for i, value in enumerate([True, False, True]):
        model.take(SignalUpdate("a", LOW_BEAM, value, 900.0 + i, 1000.0 + i))
    model.take(SignalUpdate("b", "Vehicle.Speed", 12.5, None, 1001.0))
    model.take(SignalUpdate("b", "Vehicle.Cabin.Infotainment.Media.Action", "PLAY", None, 1002.0))
    model.take(SignalUpdate("x", LOW_BEAM, True, None, 1002.0))  # a device not watched here: ignored
    assert model.paths == [LOW_BEAM, "Vehicle.Nope", "Vehicle.Speed", "Vehicle.Cabin.Infotainment.Media.Action"]
    low = model.trace("a", LOW_BEAM)
    assert low is not None and low.kind == "bool" and low.values() == {True, False}
    assert list(low.stamps) == [900.0, 901.0, 902.0]
    assert model.kind("Vehicle.Speed") == "number" and model.kind("Vehicle.Cabin.Infotainment.Media.Action") == "state"
    assert model.trace("b", LOW_BEAM) is None
    assert model.devices["a"].heard and not model.devices["b"].heard  # b never said it subscribed


def test_a_lost_link_breaks_the_device_traces_once_and_says_why() -> None:
    clock = Clock()
    model = MonitorModel([("a", "dev-a"), ("b", "dev-b")], "blinker", clock)
    for device in "ab":
        model.take(LinkUp(device))
        model.take(Subscribed(device, "127.0.0.1:55555", (LOW_BEAM,), ()))
        model.take(SignalUpdate(device, LOW_BEAM, True, None, 1000.0))
    clock.now = 1003.0
    model.take(MetricsSample("a", metrics("a", 1003.0, [])))  # the device answers a poll
    clock.now = 1009.0  # and is silent for the seconds before it counts as lost
    model.take(LinkDown("a", "no answer from the device for 5s", 2.0))
    model.take(LinkDown("a", "timed out", 5.0))
    a, b = model.trace("a", LOW_BEAM), model.trace("b", LOW_BEAM)
    assert a is not None and b is not None
    # The gap starts where the device was last heard; one gap, however often the loss is said.
    assert list(a.t) == [1000.0, 1003.0] and math.isnan(a.v[-1])
    assert b.n == 1 and model.devices["b"].heard
    state = model.devices["a"]
    assert (state.link, state.problem, state.retry_in, state.heard) == ("down", "timed out", 5.0, False)
    model.take(LinkUp("a"))
    model.take(Subscribed("a", "127.0.0.1:55555", (LOW_BEAM,), ()))
    model.take(SignalUpdate("a", LOW_BEAM, False, None, 1009.0))
    assert model.devices["a"].heard and model.devices["a"].problem == ""
    assert a.values() == {True, False} and a.n == 3
    model.take(BrokerDown("b", "127.0.0.1:55555", "UNAVAILABLE: refused", 1.0))
    assert model.devices["b"].link == "up" and not model.devices["b"].heard
    assert "UNAVAILABLE" in model.devices["b"].problem
    model.take(LinkDown("b", "Host key for 198.18.0.12 is not trusted", None))
    assert model.devices["b"].link == "given-up"


def test_metrics_samples_feed_the_sparklines_once_each() -> None:
    model = MonitorModel([("a", "dev-a")], "blinker", Clock())
    model.take(MetricsSample("a", metrics("a", 103.0, [(101.0, 2.0, 30 * 2**20), (102.0, 3.0, 31 * 2**20)])))
    # A reconnection asks again from the last sample seen; one already held is not added twice.
    model.take(MetricsSample("a", metrics("a", 104.0, [(102.0, 3.0, 31 * 2**20), (103.0, 5.0, 32 * 2**20)])))
    state = model.devices["a"]
    assert list(state.cpu.t) == [101.0, 102.0, 103.0] and list(state.cpu.v) == [2.0, 3.0, 5.0]
    assert list(state.memory.v) == [30.0, 31.0, 32.0]  # MB
    app = model.app_metrics("a")
    assert app is not None and (app.restarts, app.errors, app.kuksa_latency and app.kuksa_latency.p95) == (2, 1, 4.0)


def test_without_an_app_the_sparklines_are_the_device_s() -> None:
    model = MonitorModel([("a", "dev-a")], None, Clock())
    model.take(MetricsSample("a", metrics("a", 103.0, [])))
    state = model.devices["a"]
    assert (list(state.cpu.v), list(state.memory.v)) == ([4.0], [30.0])
    assert model.app_metrics("a") is None


def test_rows_are_what_a_span_shows_in_time_order() -> None:
    clock = Clock(35.0)
    model = MonitorModel([("a", "dev-a"), ("b", "dev-b")], "blinker", clock)
    model.take(SignalUpdate("a", LOW_BEAM, True, 1.0, 10.0))
    model.take(SignalUpdate("b", LOW_BEAM, False, None, 12.0))
    model.take(SignalUpdate("a", LOW_BEAM, False, 21.0, 30.0))
    model.take(SignalUpdate("a", "Vehicle.Speed", 50.0, None, 31.0))  # heard last at 35
    clock.now = 40.0
    model.take(LinkDown("a", "lost", 1.0))
    model.take(SignalUpdate("b", LOW_BEAM, True, None, 60.0))
    rows = model.rows([LOW_BEAM], 15.0, 45.0)
    # The value in force when the span starts is part of it (its step is on screen); later ones are not.
    assert [(r[1], r[3], r[5]) for r in rows] == [("dev-a", "true", "value"), ("dev-b", "false", "value"),
                                                  ("dev-a", "false", "value"), ("dev-a", "", "gap")]
    assert rows[0][0] == "1970-01-01T00:00:10.000Z" and rows[0][4] == "1970-01-01T00:00:01.000Z"
    assert rows[1][4] == ""


def test_a_trace_keeps_what_the_longest_window_needs() -> None:
    trace = Trace()
    for i in range(20_000):
        trace.add(float(i), i % 3 == 0)
    assert trace.t[0] <= 20_000 - RETENTION and trace.t[-1] == 19_999.0  # the whole of the longest window
    assert trace.n <= 4 * RETENTION  # and not everything since it started
    assert trace.first_index(19_990.5) == trace.n - 10
    assert len(trace.labels) == trace.n


def test_state_values_keep_their_text() -> None:
    trace = Trace()
    for value in ("PARK", "DRIVE", None, "PARK", [1, 2]):
        trace.add(1.0, value)
    assert trace.kind == "state" and trace.values() == {"PARK", "DRIVE", "[1, 2]"}
    assert math.isnan(trace.v[2]) and trace.v[3] == trace.v[0]
