"""What `sdv-studio monitor` draws on a terminal, and prints line by line elsewhere, from its events."""

from __future__ import annotations

import time

from rich.console import Console

from sdv_studio.cli.monitor_view import LiveState, event_line, value_text
from sdv_studio.core.monitor import BrokerDown, LinkDown, LinkUp, MetricsSample, SignalUpdate, Subscribed
from sdv_studio.models.metrics import DeviceMetrics

ANSWER = {
    "cpu": {"percent": 12.5, "count": 4, "load": [0.1, 0.2, 0.3]},
    "memory": {"total": 8 << 30, "available": 6 << 30, "used": 2 << 30, "percent": 25.0},
    "disk": {"path": "/", "total": 1, "free": 1, "used": 0, "percent": 0.0}, "interval": 1.0, "timestamp": 1.0,
    "apps": [{"name": "playground", "kind": "app", "pid": 42, "status": "degraded", "restarts": 2, "uptime": 3725.0,
              "rss": 48 << 20, "memoryLimit": 512 << 20, "cpu_usage": 1.25, "metered": True, "signal_updates": 7,
              "signalUpdatesPerSecond": 2.0, "errors": 3,
              "kuksa_latency": {"p50": 0.84, "p95": 1.41, "calls": 120, "window": 60}},
             {"name": "databroker", "kind": "service", "pid": 43, "status": "running", "rss": 30 << 20}],
}


def draw(state: LiveState) -> str:
    console = Console(record=True, width=200)
    console.print(state.render())
    return console.export_text()


def test_the_table_shows_each_devices_app_and_signal() -> None:
    state = LiveState("playground", ["d4", "d5"])
    now = time.time()
    for event in (LinkUp("d4"), MetricsSample("d4", DeviceMetrics.from_agent("d4", ANSWER)),
                  Subscribed("d4", "127.0.0.1:55555", ("Vehicle.Speed",), ("Vehicle.Nope",)),
                  SignalUpdate("d4", "Vehicle.Speed", 42.5, now, now),
                  LinkDown("d5", "d5: cannot connect", 5.0)):
        state.take(event)
    text = draw(state)
    [d4] = [line for line in text.splitlines() if line.startswith("│d4")]
    for cell in ("up", "12.5%", "25.0%", "playground", "degraded", "1.2", "48MB / 512MB", "2", "1h02m", "2.0", "3",
                 "0.84 / 1.41 ms"):
        assert cell in d4, (cell, d4)
    assert "databroker" not in text  # only the app asked for
    [d5] = [line for line in text.splitlines() if line.startswith("│d5")]
    assert "down" in d5
    assert "Vehicle.Speed" in text and "42.5" in text
    assert "d4: not signals on 127.0.0.1:55555: Vehicle.Nope" in text and "d5: d5: cannot connect" in text


def test_plain_lines_name_the_device() -> None:
    metrics = MetricsSample("d4", DeviceMetrics.from_agent("d4", ANSWER))
    assert event_line(metrics, "playground") == ("d4: playground degraded, cpu 1.2%, memory 48MB / 512MB, "
                                                 "updates/s 2.0, errors 3, KUKSA 0.84 / 1.41 ms")
    assert event_line(metrics, "other") == "d4: cpu 12.5%, no app other running"
    assert event_line(SignalUpdate("d4", "Vehicle.Body.Lights.Beam.Low.IsOn", False, None, 0.0), "x") == (
        "d4: Vehicle.Body.Lights.Beam.Low.IsOn = false")
    assert event_line(BrokerDown("d4", "127.0.0.1:55555", "UNAVAILABLE: refused", 2.0), "x") == (
        "d4: databroker 127.0.0.1:55555: UNAVAILABLE: refused; again in 2s")
    assert event_line(LinkDown("d4", "host key not trusted", None), "x") == (
        "d4: link down: host key not trusted; given up")
    assert [value_text(v) for v in (None, True, 0.1 + 0.2, 7, "on", [1, 2])] == ["–", "true", "0.3", "7", "on",
                                                                             "[1, 2]"]
