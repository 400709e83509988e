"""The agent's session: many requests on one stdin, one answer line each, and ``receive``'s bytes
riding right behind their request."""

from __future__ import annotations

import fcntl
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent


def _request(command: str, args: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"command": command, "args": args or {}}).encode() + b"\n"


def _session(agent: Agent, stdin: bytes, exit_code: int = 0) -> list[dict[str, Any]]:
    done = subprocess.run([agent.python, str(agent.dir / "entrypoint.py"), "session"], input=stdin,
                          capture_output=True, env=agent.env, timeout=60, check=False)
    assert done.returncode == exit_code, done.stderr
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_receive_writes_the_bytes_that_follow_and_the_session_goes_on(agent: Agent) -> None:
    uploads = agent.base / "uploads"
    good = [(b"print('hi')\n", uploads / "pkg" / "app" / "main.py"), (b"\0" * 300_000, uploads / "pkg" / "big.whl")]
    outside = agent.home / "elsewhere.txt"
    stdin = _request("receive", {"files": [[str(p), len(d)] for d, p in good]}) + b"".join(d for d, _ in good)
    stdin += _request("receive", {"files": [[str(outside), 5]]}) + b"SNEAK"  # refused, and its bytes skipped
    stdin += _request("status")
    stdin += _request("receive", {"files": [[str(uploads / "cut.bin"), 100]]}) + b"only ten.."  # stdin ends early
    received, refused, status, cut = _session(agent, stdin, exit_code=1)
    assert received == {"ok": True, "command": "receive", "received": 2, "bytes": 300_012}
    assert [p.read_bytes() for _, p in good] == [d for d, _ in good]
    assert not refused["ok"] and "outside" in refused["error"] and not outside.exists()
    assert status["ok"] and status["command"] == "status"  # the refused request's bytes were not read as one
    assert not cut["ok"] and "10 of 100 bytes" in cut["error"]
    assert not (uploads / "cut.bin").exists() and not (uploads / "cut.bin.part").exists()  # nothing half-written


def test_a_transfer_that_stalls_ends_the_session_and_leaves_no_part_file(agent: Agent) -> None:
    uploads = agent.base / "uploads"
    session = subprocess.Popen([agent.python, str(agent.dir / "entrypoint.py"), "session"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, env=agent.env)
    assert session.stdin is not None and session.stdout is not None
    session.stdin.write(_request("receive", {"files": [[str(uploads / "w.whl"), 1000]], "stall": 0.5}) + b"x" * 10)
    session.stdin.flush()  # and then nothing more: the link is gone, though the channel stays open
    try:
        answer = json.loads(session.stdout.readline())
        assert session.wait(timeout=10) == 1  # the session ended without stdin ending
    finally:
        session.kill()
        session.stdin.close()
    assert not answer["ok"] and "no bytes for 0.5s" in answer["error"], answer
    assert list(uploads.iterdir()) == []


def test_a_file_that_cannot_be_written_is_refused_and_the_session_goes_on(agent: Agent) -> None:
    uploads = agent.base / "uploads"
    (uploads / "taken").mkdir(parents=True)
    (uploads / "taken" / "x.whl.part").mkdir()  # where the file's bytes would go: cannot be opened as a file
    files = [[str(uploads / "taken" / "x.whl"), 6], [str(uploads / "taken" / "y.whl"), 3]]
    failed, status = _session(agent, _request("receive", {"files": files}) + b"abcdefxyz" + _request("status"))
    assert not failed["ok"] and "cannot write" in failed["error"] and "x.whl" in failed["error"], failed
    assert status["ok"]  # all nine bytes were read: the next request was where it should be
    assert not (uploads / "taken" / "y.whl").exists()  # a refused transfer keeps none of its files


def test_a_session_refuses_what_it_cannot_serve_and_keeps_serving(agent: Agent) -> None:
    answers = _session(agent, b"not json\n" + _request("supervise") + _request("nonsense") + _request("info"))
    assert [a["ok"] for a in answers] == [False, False, False, True]
    assert "one JSON line" in answers[0]["error"] and "a session request is" in answers[1]["error"]
    assert answers[3]["command"] == "info"


def test_status_that_settles_waits_for_a_start_in_progress(agent: Agent, tmp_path: Path) -> None:
    agent.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    with open(agent.base / "apps" / "demo" / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a deploy holds it while it starts the app
        asking = agent.popen("status", {"settle": "demo"})
        time.sleep(1.0)
        assert asking.poll() is None, "status answered while a start was in progress"
    out, _ = asking.communicate(timeout=30)
    assert json.loads(out)["apps"][0]["status"] == "running"
