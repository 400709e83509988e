"""What `status` makes of the agent's answer for an app with a staged release (app_control.native_states)."""

from __future__ import annotations

from typing import Any

from sdv_studio.core.deploy.app_control import native_states

STAGED = {"release": "2.0.0-0123abcd", "version": "2.0.0", "packageId": "pkg_0123abcd",
          "condition": "Vehicle.Speed == 0", "kind": "idle", "stagedAt": "2026-01-01T02:00:00Z",
          "observed": {"at": "2026-01-01T02:00:05Z", "holds": False, "values": {"Vehicle.Speed": 50.0}, "error": None,
                       "switching": False}}


def agent_app(**fields: Any) -> dict[str, Any]:
    app = {"name": "idler", "version": "1.0.0", "status": "running", "runtime": "native", "pid": 42,
           "startedAt": "2026-01-01T01:00:00Z", "restarts": 0, "release": "1.0.0-89abcdef", "current": "1.0.0-89abcdef",
           "health": None, "staged": None, "lastStaged": None}
    return {**app, **fields}


def test_a_staged_version_is_an_entry_of_its_own_after_the_running_one() -> None:
    running, staged = (s.to_json_dict() for s in native_states(agent_app(staged=STAGED)))
    assert (running["version"], running["status"], running["pid"]) == ("1.0.0", "running", 42)
    assert staged == {"name": "idler", "version": "2.0.0", "status": "staged", "runtime": "native", "restarts": 0,
                      "condition": "Vehicle.Speed == 0", "stagedAt": "2026-01-01T02:00:00Z",
                      "lastCheck": {"at": "2026-01-01T02:00:05Z", "holds": False, "values": {"Vehicle.Speed": 50.0}}}


def test_an_app_that_never_ran_shows_only_its_staged_version() -> None:
    never = agent_app(version=None, status="stopped", pid=None, startedAt=None, release=None, current=None,
                      staged=dict(STAGED, observed=None))
    [staged] = native_states(never)
    assert (staged.version, staged.status, staged.last_check) == ("2.0.0", "staged", None)


def test_how_the_last_staged_switch_ended_is_on_the_running_entry() -> None:
    last = {"release": "2.0.0-0123abcd", "version": "2.0.0", "outcome": "failed", "reason": "exited", "at": "t"}
    [app] = native_states(agent_app(lastStaged=last))
    assert app.last_staged == last and app.status == "running"
