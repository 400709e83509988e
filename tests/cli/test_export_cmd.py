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
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert summary == {"output": str(out), "inventory": str(out / "inventory.yml"), "playbook": str(out / "deploy.yml"),
                       "devices": ["car-1", "car-2", "car-3"], "serial": [1, 2], "maxFailPercentage": 50.0,
                       "credentials": str(out / "vars" / "credentials.yml"), "tokenExpires": None}
    # A broker that is not SDV Studio's verifies tokens SDV Studio cannot make: said, as deploy says it.
    assert "NOT enforced: data access restricted: the databroker at 10.30.0.9:55555 is not SDV Studio's" in printed.err

    assert main(["export", "ansible", package_id, "--device", "car-1", "--output", str(out), "--broker", "b:1"]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"ansible-playbook -i {out / 'inventory.yml'} {out / 'deploy.yml'}\n"
    assert "1 device(s) in batches of [1], max_fail_percentage 0" in printed.err


def test_an_export_to_sdv_studios_databroker_carries_the_apps_token_and_says_when_it_expires(
        home: Path, package_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    KnownHosts().add("10.30.0.1", paramiko.ECDSAKey.generate())
    out = home / "secured"
    assert main(["export", "ansible", package_id, "--device", "sdv@10.30.0.1", "--output", str(out), "--json"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["tokenExpires"] == "2038-01-19T03:14:07Z"
    assert f"{out / 'vars' / 'credentials.yml'}: the app's databroker token (a secret; expires 2038-01-19T03:14:07Z)" \
        in printed.err
    assert "2038-01-19 03:14:07 UTC" in (out / "README.md").read_text()


def test_a_token_or_ca_file_that_cannot_be_used_is_refused_naming_the_option_and_file(
        home: Path, package_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    KnownHosts().add("10.30.0.1", paramiko.ECDSAKey.generate())
    (home / "token").write_text("not a token")
    assert main(["export", "ansible", package_id, "--device", "sdv@10.30.0.1", "--output", str(home / "x"),
                 "--broker-token-file", str(home / "token"), "--broker-ca", str(home / "missing.pem")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"--broker-token-file: {home / 'token'}: is not a JWT: expected three base64url parts joined by dots "
        "(header.claims.signature)",
        f"--broker-ca: {home / 'missing.pem'}: No such file or directory",
    ]


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
