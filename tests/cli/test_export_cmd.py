"""`sdv-studio export ansible` as a user runs it, without devices: what it prints, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import paramiko
import pytest

from sdv_studio.cli import main
from sdv_studio.core.ssh.known_hosts import KnownHosts

APP = Path(__file__).resolve().parents[1] / "data" / "apps" / "light_counter.py"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def package_id(home: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["package", str(APP), "--name", "light", "--python", "3.11", "--platform", "x86_64", "--json"]) == 0
    value: str = json.loads(capsys.readouterr().out)["packageId"]
    return value


def test_a_tag_exports_its_devices_in_waves(home: Path, package_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    for number in (1, 2, 3):
        assert main(["devices", "add", f"sdv@10.30.0.{number}", "--id", f"car-{number}", "--tag", "campaign"]) == 0
        KnownHosts().add(f"10.30.0.{number}", paramiko.ECDSAKey.generate())
    capsys.readouterr()
    out = home / "to-ansible"
    assert main(["export", "ansible", package_id, "--device", "tag:campaign", "--output", str(out),
                 "--waves", "1,100%", "--max-failed", "50%", "--broker", "10.30.0.9:55555", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"output": str(out), "inventory": str(out / "inventory.yml"), "playbook": str(out / "deploy.yml"),
                       "devices": ["car-1", "car-2", "car-3"], "serial": [1, 2], "maxFailPercentage": 50.0}

    assert main(["export", "ansible", package_id, "--device", "car-1", "--output", str(out), "--broker", "b:1"]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"ansible-playbook -i {out / 'inventory.yml'} {out / 'deploy.yml'}\n"
    assert "1 device(s) in batches of [1], max_fail_percentage 0" in printed.err


def test_bad_input_exits_2_with_one_line_per_problem(home: Path, package_id: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "ansible", package_id, "--device", "tag:nobody", "--output", str(home / "x"),
                 "--waves", "3,1", "--max-failed", "lots", "--grace", "-1"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "--device tag:nobody: no saved device has the tag 'nobody'",
        "--waves 3,1: '1' does not reach further than the wave before it (waves are cumulative: 1,25%,100%)",
        "--max-failed lots: expected a count of devices (0 or more) or a percentage of the wave (0% to 100%), "
        "e.g. 1 or 10%",
        "--grace: must not be negative",
    ]
    assert main(["export", "ansible", package_id, "--device", "sdv@10.30.0.7", "--output", str(home / "x")]) == 2
    assert capsys.readouterr().err.startswith("--device sdv@10.30.0.7: SDV Studio trusts no host key for 10.30.0.7")
    assert not (home / "x").exists()
    assert main(["export"]) == 2
    assert capsys.readouterr().err.startswith("export: say which tool: ansible")
