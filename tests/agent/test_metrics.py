"""``metrics``: the supervisor's samples of the device and each app, its KUKSA counters as the app's
meter sends them (here a stand-in speaking the meter's datagram format), the 15-minute history."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from sdv_studio.agent.sdvagent import sampler
from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent, is_alive, wait_for

# What templates/sdv_meter.py sends, from a stand-in: every 0.1 s 2 updates received and 1 sent over
# 1 call of ~1.47 ms (bucket 20), an error every 10th; and the CPU busy half the time.
METERED = '''\
import json, os, socket, threading, time

def _meter():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n = 0
    while True:
        n += 1
        report = {"pid": os.getpid(), "calls": n, "errors": n // 10, "received": 2 * n, "sent": n,
                  "lastError": "UNAVAILABLE: connection refused" if n >= 10 else None,
                  "latency": {"base": 0.05, "perOctave": 4, "counts": {"20": n}}}
        try:
            sock.sendto(json.dumps(report).encode(), os.environ["SDV_METRICS_SOCKET"])
        except OSError:
            pass
        time.sleep(0.1)

def _burn():
    while True:
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            pass
        time.sleep(0.05)

threading.Thread(target=_meter, daemon=True).start()
threading.Thread(target=_burn, daemon=True).start()
'''


def _deploy(agent: Agent, tmp_path: Path) -> None:
    files = pkgbuild.with_app(pkgbuild.package_files("metered", "1.0.0"), METERED + pkgbuild.APP.format(
        mode="ok", extra=""))
    agent.run("deploy", dict(FAST, package=str(pkgbuild.write_package(tmp_path / "metered.tar.gz", files))))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _app(answer: dict[str, Any], name: str = "metered") -> dict[str, Any]:
    [app] = [a for a in answer["apps"] if a["name"] == name]
    return app


def test_each_app_is_sampled_with_its_kuksa_figures_and_history(agent: Agent, tmp_path: Path) -> None:
    began = time.time()
    _deploy(agent, tmp_path)
    metrics = wait_for(lambda: (m := agent.run("metrics")) and (_app(m).get("kuksa_latency") or {}).get("calls", 0) > 20
                       and _app(m)["cpu_usage"] is not None and m, "a few seconds of samples")
    app = _app(metrics)
    assert app["kind"] == "app" and app["status"] == "running" and app["restarts"] == 0 and app["metered"]
    assert is_alive(app["pid"]) and 0 < app["uptime"] < 60 and app["startedAt"].endswith("Z")
    assert app["cpu_usage"] > 0
    assert app["rss"] > 0 and app["memoryLimit"] == 512 << 20
    assert app["memory_usage"] == round(100.0 * app["rss"] / app["memoryLimit"], 1) or abs(
        app["memory_usage"] - 100.0 * app["rss"] / app["memoryLimit"]) < 1  # RSS read a moment apart
    assert app["signal_updates"] == app["signalUpdatesReceived"] + app["signalUpdatesSent"] > 0
    assert 15 <= app["signalUpdatesPerSecond"] <= 31, app  # 3 per 0.1 s, whatever the sleeps add
    assert app["errors"] >= 1 and app["lastError"] == "UNAVAILABLE: connection refused"
    latency = app["kuksa_latency"]
    assert 1.3 < latency["p50"] == latency["p95"] < 1.6 and latency["window"] == 60
    assert metrics["cpu"]["percent"] is not None and metrics["interval"] == 1.0

    history = agent.run("metrics", {"since": began})["history"]
    assert len(history) >= 2 and all(began < p["t"] for p in history)
    assert [p["t"] for p in history] == sorted(p["t"] for p in history)
    gaps = sorted(b["t"] - a["t"] for a, b in itertools.pairwise(history))
    assert 0.9 < gaps[len(gaps) // 2] < 1.3 and gaps[0] > 0.5, gaps  # once a second, as the loop wakes
    metered = [p["apps"]["metered"] for p in history[1:] if "metered" in p["apps"]]
    assert metered and all(p["status"] == "running" and p["rss"] > 0 for p in metered)
    assert any(p["signalUpdates"] and p["p50"] for p in metered)

    # The app's CPU over a few seconds, measured here from /proc, against the samples of that time.
    start, used = time.time(), _cpu_seconds(app["pid"])
    time.sleep(4)
    measured = 100 * (_cpu_seconds(app["pid"]) - used) / (time.time() - start)
    during = [p["apps"]["metered"]["cpu"] for p in agent.run("metrics", {"since": start + 1})["history"]]
    assert len(during) >= 2 and abs(sum(during) / len(during) - measured) <= 10, (during, measured)

    os.kill(app["pid"], signal.SIGKILL)
    restarted = wait_for(lambda: (a := _app(agent.run("metrics")))["pid"] not in (None, app["pid"])
                         and a["metered"] and a, "the restarted app to report")
    assert restarted["restarts"] == 1 and restarted["uptime"] < app["uptime"] + 5
    # A new process counts from zero: its totals are its own.
    assert restarted["signal_updates"] < app["signal_updates"] + 300


def test_a_crashed_app_shows_as_crashed_in_history(agent: Agent, tmp_path: Path) -> None:
    _deploy(agent, tmp_path)
    killed_at = time.time()
    # Killed again as soon as it is back: the supervisor waits 0.5 s, 1 s, 2 s ... before restarting it.
    pid = None
    for _ in range(4):
        pid = wait_for(lambda gone=pid: (a := _app(agent.run("metrics")))["pid"] not in (None, gone) and a["pid"],
                       "the app (back) up")
        os.kill(pid, signal.SIGKILL)
    history = wait_for(lambda: [p for p in agent.run("metrics", {"since": killed_at})["history"]
                                if p["apps"].get("metered", {}).get("status") == "crashed"],
                       "a sample of the app down", timeout=10)
    assert history[0]["apps"]["metered"]["rss"] is None and history[0]["apps"]["metered"]["cpu"] is None


def test_without_a_supervisor_only_the_device_is_sampled(agent: Agent) -> None:
    answer = agent.run("metrics")
    assert answer["apps"] == [] and answer["history"] == [] and answer["interval"] is None
    assert 0 <= answer["cpu"]["percent"] <= 100 and answer["memory"]["total"] > 0
    assert agent.supervisor_pid() is None  # asking did not start one
    refused = agent.run("metrics", {"since": "yesterday"}, expect_ok=False)
    assert refused["exitCode"] == 2 and refused["error"].startswith("since:")


def test_a_supervisor_of_another_agent_version_is_replaced_and_its_apps_kept(agent: Agent, tmp_path: Path) -> None:
    (agent.dir / ".bundle").write_text("old\n")
    _deploy(agent, tmp_path)
    old_supervisor, app_pid = agent.supervisor_pid(), _app(agent.run("metrics"))["pid"]
    (agent.dir / ".bundle").write_text("new\n")  # an upgrade: the agent's files replaced
    answer = agent.run("metrics")
    assert agent.supervisor_pid() != old_supervisor and not is_alive(old_supervisor or 0)
    assert _app(answer)["pid"] == app_pid and _app(answer)["status"] == "running"
    assert agent.run("supervisor", {"action": "status"})["supervisor"]["bundle"] == "new"


def test_percentiles_come_from_the_histogram_buckets() -> None:
    assert sampler.percentile({}, 0.5) is None
    histogram = {0: 50, 20: 45, 40: 5}  # ~0.05 ms, ~1.5 ms, ~48 ms
    assert sampler.percentile(histogram, 0.5) == round(0.05 * 2 ** (-0.5 / 4), 3)
    assert 1.3 < sampler.percentile(histogram, 0.95) < 1.6
    assert 40 < sampler.percentile(histogram, 0.99) < 50


def test_only_well_formed_meter_reports_are_read() -> None:
    good = {"pid": 42, "calls": 3, "errors": 1, "received": 5, "sent": 2, "lastError": "x" * 1000,
            "latency": {"base": 0.05, "perOctave": 4, "counts": {"7": 3}}}
    pid, totals = sampler.parse_report(json.dumps(good).encode()) or (0, None)
    assert pid == 42 and totals is not None and totals.latency == {7: 3} and len(totals.last_error) == 300
    for bad in (b"not json", b"[]", json.dumps({**good, "pid": -1}).encode(),
                json.dumps({**good, "calls": 1.5}).encode(), json.dumps({**good, "sent": True}).encode(),
                json.dumps({k: v for k, v in good.items() if k != "errors"}).encode(),
                json.dumps({**good, "latency": {"base": 0.05, "perOctave": 4, "counts": {"x": 1}}}).encode()):
        assert sampler.parse_report(bad) is None, bad
    other_scale = {**good, "latency": {"base": 1, "perOctave": 2, "counts": {"7": 3}}}
    assert sampler.parse_report(json.dumps(other_scale).encode())[1].latency == {}  # type: ignore[index]
