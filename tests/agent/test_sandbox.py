"""A sandboxed native app: a systemd service with the strict properties where systemd can be used,
else no_new_privs and an honest list of what was not applied."""

from __future__ import annotations

import os
from pathlib import Path

from sdv_studio.agent.sdvagent import limits, sandbox
from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent


def test_with_systemd_the_app_runs_as_a_service_with_the_strict_properties(tmp_path: Path) -> None:
    env_file = tmp_path / "run" / "env" / "app.env"
    spec = {"allow": ["127.0.0.0/8", "::1/128", "198.18.0.40"], "cwd": "/opt/app",
            "env": {"KUKSA_TOKEN": "a.b.c", "NOTE": 'say "hi"'}, "envFile": str(env_file)}
    plan = limits.plan("sdv-app-1", 256 << 20, 0.5, use_systemd=True, sandbox=spec)
    props = [plan.prefix[i + 1] for i, arg in enumerate(plan.prefix) if arg == "-p"]
    assert plan.prefix[0] == "systemd-run" and {"--wait", "--pipe", "--collect"} <= set(plan.prefix)
    assert "--scope" not in plan.prefix and plan.prefix[-1] == "--"
    assert props == ["NoNewPrivileges=yes", "ProtectSystem=full", "PrivateTmp=yes", "IPAddressDeny=any",
                     "IPAddressAllow=127.0.0.0/8 ::1/128 198.18.0.40", f"MemoryMax={256 << 20}", "CPUQuota=50%",
                     "WorkingDirectory=/opt/app", f"EnvironmentFile={env_file}"]
    # The token is not on the command line, where ps shows it to every user.
    assert not any("a.b.c" in arg for arg in plan.prefix)
    assert env_file.read_text() == 'KUKSA_TOKEN="a.b.c"\nNOTE="say \\"hi\\""\n'
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert plan.stop is not None and plan.stop[-1] == "sdv-app-1.service"
    assert plan.report["enforcedBy"] == "systemd-service" and plan.report["sandbox"]["notApplied"] == []


def test_without_systemd_a_sandboxed_app_gets_no_new_privs_and_the_rest_is_named(agent: Agent, tmp_path: Path) -> None:
    package = pkgbuild.build(tmp_path, "boxed", "1.0.0")
    done = agent.run("deploy", dict(FAST, package=str(package), sandbox={"isolate": True}))
    pid = done["instance"]["pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    assert "NoNewPrivs:\t1" in status
    report = done["instance"]["limits"]["sandbox"]
    assert report["applied"] == ["NoNewPrivileges=yes"]
    assert [line.split(":")[0] for line in report["notApplied"]] == ["ProtectSystem", "PrivateTmp", "IPAddressAllow"]
    assert all("needs a systemd service" in line for line in report["notApplied"])

    # Unsandboxed again: a setting the process was started with, so the app restarts without it.
    plain = agent.run("deploy", dict(FAST, package=str(package), sandbox={"isolate": False}))
    assert plain["started"] and "NoNewPrivs:\t0" in Path(f"/proc/{plain['instance']['pid']}/status").read_text()
    assert "sandbox" not in plain["instance"]["limits"]


def test_the_addresses_a_sandboxed_app_may_reach_are_loopback_and_its_brokers() -> None:
    assert sandbox.allowed_addresses("127.0.0.1:55555", "127.0.0.1:1883") == ["127.0.0.0/8", "::1/128"]
    assert sandbox.allowed_addresses("198.18.0.40:55555", "[fd00::7]:1883") == [
        "127.0.0.0/8", "::1/128", "198.18.0.40", "fd00::7"]
    assert os.getuid() != 0 or sandbox.stop_argv("u") == ["systemctl", "stop", "u.service"]
