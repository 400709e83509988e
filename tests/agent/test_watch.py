"""Health after the gate: the gate fails with the app's own reason, the supervisor asks again on
its interval, and ``status`` says running, degraded or crashed with the last check's verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent, wait_for

UNREACHABLE = "databroker 127.0.0.1:55555 not reachable: failed to connect to all addresses"


def _app(agent: Agent) -> dict[str, Any]:
    app: dict[str, Any] = agent.run("status", {"name": "demo"})["apps"][0]
    return app


def test_the_gate_fails_with_the_apps_own_reason(agent: Agent, tmp_path: Path) -> None:
    down = tmp_path / "down"
    down.write_text(UNREACHABLE)
    refused = agent.run("deploy", dict(FAST, healthTimeout=2, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0")),
                                       env={"DOWN_FILE": str(down)}), expect_ok=False)
    assert f"not healthy within 2s: {UNREACHABLE}; nothing was running before" in refused["error"], refused
    assert _app(agent)["status"] == "stopped"


def test_status_turns_degraded_when_a_recheck_fails_and_running_when_it_passes(agent: Agent, tmp_path: Path) -> None:
    down = tmp_path / "down"
    agent.run("deploy", dict(FAST, healthInterval=0.5, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0")),
                             env={"DOWN_FILE": str(down)}))
    gated = _app(agent)  # the gate's own verdict, before any re-check
    assert gated["status"] == "running" and gated["health"]["kuksa_connection"] is True
    assert gated["health"]["last_check"].endswith("Z") and gated["health"]["reason"] == ""

    down.write_text(UNREACHABLE)
    degraded = wait_for(lambda: (a := _app(agent))["status"] == "degraded" and a, "a failed re-check")
    assert degraded["health"] == {"kuksa_connection": False, "app_running": True,
                                  "last_check": degraded["health"]["last_check"], "reason": UNREACHABLE}
    assert degraded["pid"] == gated["pid"]  # degraded is up: nothing was restarted

    down.unlink()
    back = wait_for(lambda: (a := _app(agent))["status"] == "running" and a, "a passing re-check")
    assert back["health"]["kuksa_connection"] is True and back["health"]["reason"] == ""


def test_an_app_that_keeps_exiting_is_crashed_with_its_exit_code(agent: Agent, tmp_path: Path) -> None:
    stop = tmp_path / "exit"
    package = pkgbuild.build(tmp_path, "demo", "1.0.0")
    agent.run("deploy", dict(FAST, package=str(package), env={"EXIT_FILE": str(stop)}))
    stop.touch()
    crashed = wait_for(lambda: (a := _app(agent))["status"] == "crashed" and a, "the app to exit")
    assert crashed["pid"] is None and crashed["health"]["app_running"] is False
    assert crashed["health"]["reason"] == "exited with code 3; restarting"
