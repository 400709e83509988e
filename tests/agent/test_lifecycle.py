"""Install, start, status, health, logs, restart after kill -9, stop, uninstall, metrics."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent, is_alive, wait_for


def _app(agent: Agent) -> dict:
    return agent.run("status", {"name": "demo"})["apps"][0]


def test_deploy_status_health_logs_restart(agent: Agent, tmp_path: Path) -> None:
    pkg = pkgbuild.build(tmp_path, "demo", "1.0.0")
    beat = tmp_path / "beat"
    done = agent.run("deploy", dict(FAST, package=str(pkg), env={"HEARTBEAT_FILE": str(beat)}))
    assert done["started"] and done["version"] == "1.0.0" and not done["alreadyInstalled"]
    assert done["instance"]["limits"]["enforcedBy"] in ("rlimit", "systemd-scope")

    app = _app(agent)
    assert {k: app[k] for k in ("name", "version", "status", "runtime", "restarts")} == {
        "name": "demo", "version": "1.0.0", "status": "running", "runtime": "native", "restarts": 0}
    assert app["startedAt"].endswith("Z") and is_alive(app["pid"])
    wait_for(beat.exists, "a heartbeat")
    assert beat.read_text().startswith(f"1.0.0 {app['pid']}")

    health = agent.run("health", {"name": "demo"})
    assert health["healthy"] and health["probe"]["status"] == 200

    logs = agent.run("logs", {"name": "demo", "lines": 5})
    assert len(logs["lines"]) == 5 and any("heartbeat 1.0.0" in line for line in logs["lines"])

    # The app's env is what docs/package-format.md promises.
    env = Path(f"/proc/{app['pid']}/environ").read_bytes().split(b"\0")
    assert b"KUKSA_ENDPOINT=127.0.0.1:55555" in env and b"VSS_VERSION=4.0" in env
    assert b"SDV_VEHICLEDATABROKER_ADDRESS=grpc://127.0.0.1:55555" in env and b"APP_NAME=demo" in env

    os.kill(app["pid"], signal.SIGKILL)
    again = wait_for(lambda: (a := _app(agent))["status"] == "running" and a["pid"] != app["pid"] and a,
                     "the supervisor to restart the app")
    assert again["restarts"] == 1
    wait_for(lambda: agent.run("health", {"name": "demo"})["healthy"], "health after the restart")

    # Same package again: nothing installed, nothing restarted.
    same = agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    assert same["alreadyInstalled"] and same["alreadyRunning"] and same["instance"]["pid"] == again["pid"]

    metrics = agent.run("metrics")
    assert metrics["memory"]["total"] > 0 and metrics["disk"]["total"] > 0 and metrics["cpu"]["count"] >= 1
    assert [m["rss"] > 0 for m in metrics["apps"] if m["name"] == "demo"] == [True]

    stopped = agent.run("stop", {"name": "demo"})
    assert stopped["stopped"] and not is_alive(again["pid"])
    assert _app(agent)["status"] == "stopped"
    started = agent.run("start", dict(FAST, name="demo"))
    assert started["started"] and _app(agent)["status"] == "running"

    gone = agent.run("uninstall", {"name": "demo"})
    assert gone["removedReleases"] and not is_alive(started["instance"]["pid"])
    assert agent.run("status")["apps"] == []


def test_logs_follow_streams_json_lines(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    follower = agent.popen("logs", {"name": "demo", "lines": 1, "follow": True, "followSeconds": 1.5})
    out, _ = follower.communicate(timeout=30)
    lines = [line for line in out.splitlines() if line]
    assert len(lines) >= 2 and all('"name": "demo"' in line for line in lines)


def test_supervisor_killed_apps_survive_and_are_adopted(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    app = _app(agent)
    old_supervisor = agent.supervisor_pid()
    os.kill(old_supervisor, signal.SIGKILL)
    wait_for(lambda: not is_alive(old_supervisor), "the supervisor to die")
    assert is_alive(app["pid"])
    # The next command starts a new supervisor, which adopts the running app instead of starting another.
    after = _app(agent)
    assert agent.supervisor_pid() != old_supervisor
    assert after["status"] == "running" and after["pid"] == app["pid"]


def test_bad_input_and_tampered_package(agent: Agent, tmp_path: Path) -> None:
    assert agent.run("nonsense", expect_ok=False)["exitCode"] == 2
    assert agent.run("deploy", {}, expect_ok=False)["exitCode"] == 2
    files = pkgbuild.package_files("demo", "1.0.0")
    files["app/main.py"] += b"# tampered\n"
    bad = agent.run("install", {"package": str(pkgbuild.write_package(tmp_path / "bad.tar.gz", files))},
                    expect_ok=False)
    assert bad["exitCode"] == 1 and "checksum mismatch" in bad["error"] and bad["mismatched"] == ["app/main.py"]


def test_service_runs_under_supervision(agent: Agent, tmp_path: Path) -> None:
    from sdv_studio.agent.sdvagent.health import free_port

    port = free_port()
    argv = [agent.python, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    started = agent.run("service", {"name": "fake-broker", "argv": argv, "health": {"tcpPort": port}})
    assert is_alive(started["pid"])
    services = agent.run("status")["services"]
    assert [s["name"] for s in services if s["status"] == "running"] == ["fake-broker"]
    agent.run("service", {"action": "stop", "name": "fake-broker"})
    assert not is_alive(started["pid"]) and agent.run("status")["services"] == []
