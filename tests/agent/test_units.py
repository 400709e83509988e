"""Small pieces of the agent tested in-process: log rotation and tail, limits parsing, mDNS fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.agent.sdvagent import limits, logs
from sdv_studio.agent.sdvagent.errors import BadRequest
from tests.agent.conftest import Agent


def test_rotation_keeps_backups_and_tail_reads_the_end(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    for round_ in range(5):
        log.write_text("".join(f"round {round_} line {n}\n" for n in range(100)))
        assert logs.rotate_if_needed(str(log), max_bytes=100, backups=3)
    assert log.stat().st_size == 0 and not (tmp_path / "app.log.4").exists()
    assert (tmp_path / "app.log.1").read_text().startswith("round 4") and (tmp_path / "app.log.3").exists()
    assert logs.tail(str(tmp_path / "app.log.1"), 2) == ["round 4 line 98", "round 4 line 99"]
    assert not logs.rotate_if_needed(str(log), max_bytes=100)


def test_limits_are_parsed_and_reported_honestly() -> None:
    assert limits.parse_memory("512MB") == 512 << 20 and limits.parse_memory("1.5G") == 3 << 29
    assert limits.parse_cpu("0.5") == 0.5
    with pytest.raises(BadRequest):
        limits.parse_memory("lots")
    rl = limits.plan("u", 512 << 20, 0.5, use_systemd=False)
    assert rl.report["enforcedBy"] == "rlimit" and rl.report["cpuEnforced"] is False and rl.preexec()
    scope = limits.plan("u", 512 << 20, 0.5, use_systemd=True)
    assert f"MemoryMax={512 << 20}" in scope.prefix and "CPUQuota=50%" in scope.prefix


def test_mdns_without_avahi_or_zeroconf_says_why(agent: Agent) -> None:
    agent.env["PATH"] = "/nonexistent"  # no avahi-publish to find
    answer = agent.run("mdns", {"action": "start"})
    assert answer["advertising"] is False and "zeroconf" in answer["reason"]
    assert set(answer["properties"]) >= {"agent", "arch", "os", "python", "runtime", "type"}
