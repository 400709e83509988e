"""Staged releases on a real agent: a time window that is open now switches (through the health
gate), one that is closed keeps the release staged and the running one untouched, ``unstage``
cancels it, the watcher ends once nothing is staged, and a deployment supersedes what was staged."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent, is_alive, wait_for


def _window(open_now: bool) -> str:
    """A window holding the device's (this machine's) local time now, or one closed for hours yet."""
    now = time.localtime()
    minute = now.tm_hour * 60 + now.tm_min
    start = (minute - 5) % 1440 if open_now else (minute + 120) % 1440
    end = (start + (30 if open_now else 60)) % 1440
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def _status(agent: Agent) -> dict:
    [app] = agent.run("status", {"name": "demo"})["apps"]
    return app


def _watchers(agent: Agent) -> list[dict]:
    """The staged watcher's instances the supervisor keeps running (its state file, saved each change)."""
    state = json.loads((agent.base / "run" / "supervisor.json").read_text())["instances"].values()
    return [i for i in state if i["app"] == "sdv-staged" and i["want"] == "running"]


def test_a_closed_window_keeps_the_release_staged_until_cancelled(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    running = _status(agent)
    staged = agent.run("stage", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "2.0.0")),
                                     when={"window": _window(open_now=False)}))
    assert staged["staged"] and staged["version"] == "2.0.0" and staged["running"].startswith("1.0.0-")
    wait_for(lambda: (_status(agent).get("staged") or {}).get("observed"), "the watcher's first look")
    app = _status(agent)
    assert (app["version"], app["status"], app["pid"]) == ("1.0.0", "running", running["pid"])
    assert app["staged"]["version"] == "2.0.0" and app["staged"]["kind"] == "window"
    assert app["staged"]["observed"]["holds"] is False

    cancelled = agent.run("unstage", {"name": "demo"})
    assert cancelled["cancelled"]["version"] == "2.0.0"
    wait_for(lambda: not _watchers(agent), "the watcher to end with nothing staged")
    app = _status(agent)
    assert app["staged"] is None and (app["version"], app["pid"]) == ("1.0.0", running["pid"])
    again = agent.run("unstage", {"name": "demo"}, expect_ok=False)
    assert again["exitCode"] == 1 and again["error"] == "demo has no staged release"


def test_a_staged_request_outlives_its_watcher_and_the_supervisor(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    agent.run("stage", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "2.0.0")),
                            when={"window": _window(open_now=False)}))
    [watcher] = wait_for(lambda: _watchers(agent), "the watcher")
    os.kill(watcher["pid"], signal.SIGKILL)
    wait_for(lambda: [w for w in _watchers(agent) if w["pid"] and w["pid"] != watcher["pid"]],
             "the supervisor to restart the watcher")
    agent.run("supervisor", {"action": "stop"})  # the apps (and the watcher) run on
    [again] = wait_for(lambda: agent.run("supervisor", {"action": "start"}) and _watchers(agent), "a new supervisor")
    assert is_alive(again["pid"])
    assert _status(agent)["staged"]["version"] == "2.0.0"


def test_an_open_window_switches_through_the_health_gate(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    before = _status(agent)
    agent.run("stage", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "2.0.0")),
                            when={"window": _window(open_now=True)}))
    app = wait_for(lambda: (a := _status(agent))["lastStaged"] and a, "the staged switch to end")
    assert (app["version"], app["status"], app["staged"]) == ("2.0.0", "running", None)
    assert not is_alive(before["pid"])
    assert app["lastStaged"]["outcome"] == "started" and app["lastStaged"]["previous"] == before["release"]
    wait_for(lambda: not _watchers(agent), "the watcher to end with nothing staged")


def test_a_staged_release_that_fails_its_gate_leaves_the_old_one_running(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    agent.run("stage", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "2.0.0", mode="crash")),
                            when={"window": _window(open_now=True)}))
    app = wait_for(lambda: (a := _status(agent))["lastStaged"] and a, "the staged switch to end")
    assert app["lastStaged"]["outcome"] == "failed" and app["lastStaged"]["rolledBack"] is True
    assert (app["version"], app["status"], app["staged"]) == ("1.0.0", "running", None)


def test_a_deployment_supersedes_what_was_staged(agent: Agent, tmp_path: Path) -> None:
    agent.run("stage", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "2.0.0")),
                            when={"window": _window(open_now=False)}))
    assert _status(agent)["staged"]["version"] == "2.0.0"
    done = agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    assert done["unstaged"].startswith("2.0.0-")
    assert _status(agent)["staged"] is None


def test_a_bad_request_names_its_field(agent: Agent, tmp_path: Path) -> None:
    pkg = str(pkgbuild.build(tmp_path, "demo", "1.0.0"))
    bad = agent.run("stage", {"package": pkg, "when": {"window": "25:00-04:00"}}, expect_ok=False)
    assert bad["exitCode"] == 2 and bad["error"].startswith("when.window: 25:00-04:00: hours go from 00 to 23")
    bad = agent.run("stage", {"package": pkg, "when": {"idle": "Vehicle.Speed == 0"}}, expect_ok=False)
    assert bad["exitCode"] == 2 and bad["error"].startswith("reader: ")
