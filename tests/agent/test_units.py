"""Small pieces of the agent: log rotation and tail, limits parsing, the health verdict's reason, mDNS
fallback, wheels installed without pip, a service started after a delay."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from sdv_studio.agent.sdvagent import apps, limits, logs
from sdv_studio.agent.sdvagent.errors import BadRequest
from tests.agent.conftest import Agent, wait_for


def test_rotation_keeps_backups_and_tail_reads_the_end(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    for round_ in range(5):
        log.write_text("".join(f"round {round_} line {n}\n" for n in range(100)))
        assert logs.rotate_if_needed(str(log), max_bytes=100, backups=3)
    assert log.stat().st_size == 0 and not (tmp_path / "app.log.4").exists()
    assert (tmp_path / "app.log.1").read_text().startswith("round 4") and (tmp_path / "app.log.3").exists()
    assert logs.tail(str(tmp_path / "app.log.1"), 2) == ["round 4 line 98", "round 4 line 99"]
    assert not logs.rotate_if_needed(str(log), max_bytes=100)


def test_health_reason_is_empty_only_when_healthy() -> None:
    assert apps._unhealthy_reason(False, None) == "not running"
    assert apps._unhealthy_reason(True, None) == ""  # no health endpoint: alive is enough
    assert apps._unhealthy_reason(True, {"ok": True, "status": 200}) == ""
    assert apps._unhealthy_reason(True, {"ok": False, "status": 503}) == "health endpoint: HTTP 503"
    assert apps._unhealthy_reason(True, {"ok": False, "error": "refused"}) == "health endpoint: refused"


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


def test_a_wheel_with_a_data_folder_is_laid_out_as_pip_would(tmp_path: Path) -> None:
    import subprocess
    import sys
    import venv as venv_module
    import zipfile

    from sdv_studio.agent.sdvagent import venvs

    wheel = tmp_path / "wheels" / "tool-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tool/__init__.py", "NAME = 'tool'\n")
        archive.writestr("tool-1.0.data/purelib/tool_extra.py", "EXTRA = 1\n")
        archive.writestr("tool-1.0.data/scripts/tool-run", "#!python\nimport tool; print(tool.NAME)\n")
        archive.writestr("tool-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tool\nVersion: 1.0\n")
        helper = zipfile.ZipInfo("tool/helper.sh")
        helper.external_attr = 0o755 << 16
        archive.writestr(helper, "#!/bin/sh\necho helper\n")
    assert venvs.closed_set([str(wheel.parent)], ["tool>=1"]) == [str(wheel)]
    assert venvs.closed_set([str(wheel.parent)], ["other"]) is None  # a requirement without a wheel: pip's
    env = tmp_path / "venv"
    venv_module.EnvBuilder(with_pip=False, symlinks=True).create(env)
    venvs.unpack_wheels(str(env), [str(wheel)])
    site = env / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    assert (site / "tool_extra.py").exists() and not list(site.glob("*.data"))
    assert (site / "tool" / "helper.sh").stat().st_mode & 0o111  # executable in the wheel, so on disk
    assert not (site / "tool" / "__init__.py").stat().st_mode & 0o111
    script = env / "bin" / "tool-run"
    assert script.read_text().startswith(f"#!{env}/bin/python\n")
    assert subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout == "tool\n"


def test_a_delayed_service_is_scheduled_then_started_once(agent: Agent, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    code = f"import pathlib, time; pathlib.Path({str(marker)!r}).write_text('x'); time.sleep(60)"
    argv = [sys.executable, "-c", code]
    answer = agent.run("service", {"name": "later", "argv": argv, "delay": 1.5})
    assert answer["pid"] is None and answer["startsIn"] == 1.5
    (scheduled,) = agent.run("status")["services"]
    assert scheduled["status"] == "scheduled" and scheduled["pid"] is None and not marker.exists()
    running = wait_for(lambda: (s := agent.run("status")["services"][0])["status"] == "running" and s,
                       "the supervisor to start the delayed service")
    assert marker.exists() or wait_for(marker.exists, "the service to run")
    assert running["pid"] and running["restarts"] == 0


def test_a_venv_is_laid_out_as_the_venv_module_lays_it_out(tmp_path: Path) -> None:
    import subprocess
    import venv as venv_module

    from sdv_studio.agent.sdvagent import venvs

    ours, reference = tmp_path / "ours", tmp_path / "reference"
    venvs._new_venv(str(ours))
    venv_module.EnvBuilder(with_pip=False, symlinks=True).create(reference)

    def layout(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): os.readlink(p) if p.is_symlink() else ("dir" if p.is_dir() else "file")
                for p in root.rglob("*") if "activate" not in p.name.lower()}

    def config(root: Path) -> dict[str, str]:
        lines = (root / "pyvenv.cfg").read_text().splitlines()
        return dict(line.split(" = ", 1) for line in lines if not line.startswith("command"))

    assert layout(ours) == layout(reference) and config(ours) == config(reference)
    site = next((ours / "lib").glob("python3*/site-packages"))
    (site / "marker_mod.py").write_text("WHERE = 'venv'\n")
    out = subprocess.run([str(ours / "bin" / "python"), "-c",
                          "import sys, marker_mod; print(sys.prefix, sys.prefix != sys.base_prefix, marker_mod.WHERE)"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(ours), "True", "venv"]


@pytest.mark.parametrize("member", ["{victim}", "../victim", "pkg/../../victim", "C:evil"])
def test_a_wheel_member_outside_its_folder_is_refused_before_anything_is_written(tmp_path: Path, member: str) -> None:
    import zipfile

    from sdv_studio.agent.sdvagent import venvs
    from sdv_studio.agent.sdvagent.errors import AgentError

    victim = tmp_path / "victim"
    victim.write_text("x")
    victim.chmod(0o600)
    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("evil/__init__.py", "")
        info = zipfile.ZipInfo(member.format(victim=victim))
        info.external_attr = 0o100755 << 16  # executable: the agent chmods such members after extracting
        archive.writestr(info, "boom")
    site = tmp_path / "site"
    site.mkdir()
    with pytest.raises(AgentError, match="would be written outside the environment"):
        venvs.install_wheels(str(site), [str(wheel)])
    assert list(site.iterdir()) == [] and victim.stat().st_mode & 0o777 == 0o600
