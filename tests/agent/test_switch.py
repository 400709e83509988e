"""Refused bad versions, hot swap, rollback, pruning and delta installs."""

from __future__ import annotations

from pathlib import Path

from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent, is_alive


def _app(agent: Agent) -> dict:
    return agent.run("status", {"name": "demo"})["apps"][0]


def test_crashing_v2_is_refused_and_v1_keeps_running(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    v1 = _app(agent)

    # Hot swap: v1 is never stopped.
    hot = agent.run("deploy", dict(FAST, hotSwap=True, package=str(pkgbuild.build(tmp_path, "demo", "2.0.0", "crash"))),
                    expect_ok=False)
    assert hot["exitCode"] == 1 and "failed its health check" in hot["error"] and "1.0.0" in hot["error"]
    assert any("boom" in line for line in hot["logTail"]) and hot["exit"]["code"] == 3
    assert _app(agent)["pid"] == v1["pid"]

    # Stop-start: v1 is stopped, v2 fails, v1 comes back automatically.
    cold = agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "2.0.1", "crash"))),
                     expect_ok=False)
    assert cold["rolledBack"] and cold["rolledBackTo"].startswith("1.0.0-") and "rolled back" in cold["error"]
    assert any("boom" in line for line in cold["logTail"])
    now = _app(agent)
    assert now["status"] == "running" and now["version"] == "1.0.0" and now["current"].startswith("1.0.0-")

    # Told not to roll back: nothing runs afterwards, and the answer says so.
    v2 = pkgbuild.build(tmp_path, "demo", "2.0.2", "crash")
    kept = agent.run("deploy", dict(FAST, rollback=False, package=str(v2)), expect_ok=False)
    assert kept["rolledBack"] is False and _app(agent)["status"] == "stopped"


def test_hot_swap_rollback_and_pruning(agent: Agent, tmp_path: Path) -> None:
    first = agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    swap = agent.run("deploy", dict(FAST, hotSwap=True, package=str(pkgbuild.build(tmp_path, "demo", "2.0.0"))))
    assert swap["mode"] == "hot-swap" and swap["previous"] == first["release"]
    v2 = _app(agent)
    assert v2["version"] == "2.0.0" and v2["status"] == "running" and not is_alive(first["instance"]["pid"])
    assert v2["healthPort"] != first["instance"]["health"]["port"]
    assert agent.run("health", {"name": "demo"})["probe"]["body"].find('"2.0.0"') > 0

    back = agent.run("rollback", dict(FAST, name="demo", hotSwap=True))
    assert back["rolledBackTo"] == first["release"] and _app(agent)["version"] == "1.0.0"
    assert not is_alive(v2["pid"])

    for version in ("3.0.0", "4.0.0", "5.0.0"):
        agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", version))))
    releases = agent.run("inventory", {"name": "demo"})["apps"][0]["releases"]
    assert sorted(r["version"] for r in releases) == ["3.0.0", "4.0.0", "5.0.0"]  # the last 3 kept
    assert [r["version"] for r in releases if r["current"]] == ["5.0.0"]


def test_delta_install_sends_only_changed_files(agent: Agent, tmp_path: Path) -> None:
    v1 = agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    held = agent.run("inventory", {"name": "demo", "files": True})
    on_device = held["apps"][0]["releases"][0]["files"]
    assert held["apps"][0]["releases"][0]["packageId"] == v1["packageId"]

    # The engine's side: compare SHA256SUMS, upload the sums and what differs into uploads/.
    new = pkgbuild.package_files("demo", "1.0.0", extra="one-line change")
    wanted = dict(reversed(line.split("  ", 1)) for line in new["SHA256SUMS"].decode().splitlines())
    changed = sorted(p for p, digest in wanted.items() if on_device.get(p) != digest)
    assert changed == ["app/main.py"]
    upload = Path(held["uploads"]) / "delta-1"
    for rel in [*changed, "SHA256SUMS"]:
        (upload / rel).parent.mkdir(parents=True, exist_ok=True)
        (upload / rel).write_bytes(new[rel])

    done = agent.run("deploy", dict(FAST, hotSwap=True, dir=str(upload)))
    assert (done["sent"], done["reused"]) == (1, len(wanted) - 1)
    assert done["packageId"] == pkgbuild.package_id(new) and done["release"] != v1["release"]
    assert not upload.exists()  # consumed uploads are removed
    logs = agent.run("logs", {"name": "demo", "lines": 3})["lines"]
    assert any("one-line change" in line for line in logs)

    # A delta naming content the device lacks is refused, and what runs is untouched.
    other = pkgbuild.package_files("demo", "1.0.1", extra="never uploaded")
    upload2 = Path(held["uploads"]) / "delta-2"
    upload2.mkdir()
    (upload2 / "SHA256SUMS").write_bytes(other["SHA256SUMS"])
    refused = agent.run("deploy", dict(FAST, dir=str(upload2)), expect_ok=False)
    assert refused["missing"] == ["app/main.py", "manifest.json"] and _app(agent)["release"] == done["release"]
    assert not upload2.exists()  # a refused upload is discarded too: the next attempt sends afresh


def test_the_same_release_with_another_broker_is_rewired_not_already_running(agent: Agent, tmp_path: Path) -> None:
    package = str(pkgbuild.build(tmp_path, "demo", "1.0.0"))
    first = agent.run("deploy", dict(FAST, package=package, broker="127.0.0.1:55555"))
    same = agent.run("deploy", dict(FAST, package=package, broker="127.0.0.1:55555"))
    assert same["alreadyRunning"] and same["instance"]["pid"] == first["instance"]["pid"]

    moved = agent.run("deploy", dict(FAST, package=package, broker="198.18.0.40:55555"))
    assert not moved.get("alreadyRunning") and moved["started"], moved
    now = _app(agent)
    assert now["pid"] != first["instance"]["pid"] and not is_alive(first["instance"]["pid"])
    env = Path(f"/proc/{now['pid']}/environ").read_bytes()
    assert b"KUKSA_ENDPOINT=198.18.0.40:55555" in env
