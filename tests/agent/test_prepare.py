"""``prepare`` (what a deployment needs in one call), listening ports, and progress lines."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent


def test_prepare_answers_what_the_device_holds(agent: Agent, tmp_path: Path) -> None:
    unknown = "pkg_00000000000000ff"
    fresh = agent.run("prepare", {"name": "demo", "packageId": unknown})
    assert fresh["installed"] is None and fresh["hashes"] == []
    assert fresh["properties"]["python"] and fresh["upload"] == str(agent.base / "uploads" / unknown)

    done = agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    held = agent.run("prepare", {"name": "demo", "packageId": done["packageId"]})
    assert held["installed"] == done["release"] and "hashes" not in held and "upload" not in held

    # Another package: the device says which file hashes it holds, and empties what an
    # interrupted transfer left in the upload folder.
    leftover = agent.base / "uploads" / unknown / "half-sent.py"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("x")
    other = agent.run("prepare", {"name": "demo", "packageId": unknown})
    sums = (agent.base / "apps" / "demo" / "releases" / done["release"] / "SHA256SUMS").read_text()
    assert set(other["hashes"]) == {line.split()[0] for line in sums.splitlines() if line}
    assert not leftover.parent.exists()


def test_prepare_rejects_bad_input(agent: Agent) -> None:
    bad_id = agent.run("prepare", {"name": "demo", "packageId": "../../etc"}, expect_ok=False)
    assert bad_id["exitCode"] == 2 and bad_id["error"].startswith("packageId:")
    bad_name = agent.run("prepare", {"name": "Demo!", "packageId": "pkg_00000000000000ff"}, expect_ok=False)
    assert bad_name["exitCode"] == 2 and bad_name["error"].startswith("name:")


def test_info_lists_listening_ports(agent: Agent) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port in agent.run("info")["listening"]
    assert port not in agent.run("info")["listening"]


def test_deploy_prints_progress_lines_before_its_answer(agent: Agent, tmp_path: Path) -> None:
    package = pkgbuild.build(tmp_path, "demo", "1.0.0")
    args = dict(FAST, package=str(package), progress=True)
    done = subprocess.run([agent.python, str(agent.dir / "entrypoint.py"), "deploy", json.dumps(args)],
                          capture_output=True, text=True, env=agent.env, timeout=120, check=True)
    *progress, answer = [json.loads(line) for line in done.stdout.splitlines()]
    assert [p["progress"] for p in progress] == ["installed", "started"]
    assert progress[0]["release"] == answer["release"] and progress[1]["pid"] == answer["instance"]["pid"]
    assert answer["ok"] and answer["started"]
    # Without asking, the answer is the only line.
    quiet = agent.run("deploy", dict(FAST, package=str(package)))
    assert quiet["alreadyRunning"]


def test_a_refused_install_leaves_nothing_in_the_uploads(agent: Agent, tmp_path: Path) -> None:
    package = pkgbuild.build(tmp_path, "demo", "1.0.0")
    upload = agent.base / "uploads" / "pkg_00000000000000ff"
    upload.mkdir(parents=True)
    (upload / "SHA256SUMS").write_text(f"{'0' * 64}  manifest.json\n")  # no such file: refused
    refused = agent.run("install", {"dir": str(upload)}, expect_ok=False)
    assert refused["exitCode"] != 0 and not upload.exists()
    sibling = agent.base / "uploads" / "sibling.tar.gz"  # a whole package that is not one
    sibling.write_bytes(b"not gzip")
    agent.run("install", {"package": str(sibling)}, expect_ok=False)
    assert not sibling.exists() and package.exists()


def test_prepare_clears_what_deployments_cut_short_left(agent: Agent, tmp_path: Path) -> None:
    import os
    import time

    done = agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    uploads, apps = agent.base / "uploads", agent.base / "apps"
    recent = uploads / "pkg_00000000000000bb"  # no transfer can be filling it: prepare holds the lock
    kept, old_kept = uploads / "broker-wheels", uploads / "broker-vss"
    for folder in (recent, kept, old_kept):
        folder.mkdir(parents=True)
        (folder / "grpcio.whl").write_bytes(b"whole")
    (kept / "protobuf.whl.part").write_bytes(b"cut sh")
    day_ago = time.time() - 25 * 3600
    os.utime(old_kept, (day_ago, day_ago))
    staging = apps / ".incoming-x1"
    half_release = apps / "demo" / "releases" / "2.0.0-00000000"
    half_venv = apps / "demo" / "venvs" / "0123456789abcdef"
    for folder in (staging, half_release, half_venv):
        (folder / "pkg").mkdir(parents=True)
    agent.run("prepare", {"name": "demo", "packageId": "pkg_00000000000000ff"})
    assert not recent.exists() and not old_kept.exists()
    assert [p.name for p in kept.iterdir()] == ["grpcio.whl"]  # kept for the next deployment, whole
    assert not staging.exists() and not half_release.exists() and not half_venv.exists()
    assert (apps / "demo" / "releases" / done["release"] / "release.json").exists()  # complete: untouched


def test_one_deployment_at_a_time_holds_the_device_and_the_other_is_told_who(agent: Agent) -> None:
    prepare = {"name": "demo", "packageId": "pkg_00000000000000ff"}
    holder = {"host": "ws-one", "pid": 4242, "deploymentId": "deploy_00000000000000aa"}
    session = subprocess.Popen([agent.python, str(agent.dir / "entrypoint.py"), "session"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, env=agent.env)
    assert session.stdin is not None and session.stdout is not None
    try:
        session.stdin.write(json.dumps({"command": "prepare", "args": dict(prepare, holder=holder)}).encode() + b"\n")
        session.stdin.flush()
        assert json.loads(session.stdout.readline())["ok"]
        busy = agent.run("prepare", dict(prepare, holder={"host": "ws-two", "pid": 1}), expect_ok=False)
        assert busy["exitCode"] == 1 and busy["busy"]["deploymentId"] == "deploy_00000000000000aa", busy
        assert busy["error"].startswith("the device is busy: deploy_00000000000000aa from workstation ws-one "
                                        "(pid 4242) since "), busy["error"]
    finally:
        session.stdin.close()  # the session ends, and its lock with it
        session.wait(timeout=10)
    assert agent.run("prepare", dict(prepare, holder={"host": "ws-two", "pid": 1}))["ok"]
