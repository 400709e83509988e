"""`sdv-studio scan` as a user runs it: a subprocess in the rig's workstation namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.discovery.mdns import SSH_SERVICE
from tests.core.discovery.conftest import advertise
from tests.rig.rig import Rig

REPO = Path(__file__).resolve().parents[2]


def sdv_studio(rig: Rig | None, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "sdv_studio", *args]
    env = dict(os.environ, SDV_STUDIO_HOME=str(home))
    return subprocess.run(rig.workstation_argv(*argv) if rig else argv, capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120, check=False)


def devices_of(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return {d["ip"]: d for d in json.loads(result.stdout)["devices"]}


@pytest.mark.rig
def test_scan_json_on_the_rig(rig: Rig, tmp_path: Path) -> None:
    with advertise(rig["d7"], SSH_SERVICE, "d7", 22, {}):
        result = sdv_studio(rig, tmp_path, "scan", "--cidr", rig.sweep_cidr, "--json", "--user", rig.user,
                            "--identity", str(rig.key_path), "--accept-new-host-keys")
    devices = devices_of(result)
    assert set(devices) == {d.ip for d in rig.devices.values()}
    online = {d["name"]: d for d in devices.values() if d["status"] == "online"}
    assert set(online) == {"d1", "d2", "d3", "d4", "d5", "d6", "d7"}
    for d in online.values():  # the guide's DeviceInfo fields, camelCase
        assert {"id", "name", "type", "ip", "status", "runtime", "architecture", "capabilities", "lastSeen"} <= set(d)
        assert set(d["capabilities"]) >= {"gpu", "kuksa", "memory", "storage"}
        assert d["architecture"] == "x86_64"
    assert online["d1"]["type"] == "jetson-orin"
    assert {n: d["runtime"] for n, d in online.items() if d["runtime"] != "native"} == {"d2": "both", "d3": "both"}
    d8 = devices[rig["d8"].ip]
    assert d8["status"] == "error" and "authentication refused" in d8["reason"]
    assert "d1:" in result.stderr and "devices" in result.stderr  # progress goes to stderr
    # the keys were trusted into our own known_hosts; a second scan needs no --accept-new-host-keys
    assert len((tmp_path / "config" / "known_hosts").read_text().splitlines()) == 8
    again = devices_of(sdv_studio(rig, tmp_path, "scan", "--cidr", rig.sweep_cidr, "--json", "--no-mdns",
                                  "--user", rig.user, "--identity", str(rig.key_path)))
    assert sum(d["status"] == "online" for d in again.values()) == 6


@pytest.mark.rig
def test_scan_without_cidr_sweeps_the_workstation_subnet_and_prints_a_table(rig: Rig, tmp_path: Path) -> None:
    result = sdv_studio(rig, tmp_path, "scan", "--no-mdns", "--user", rig.user, "--identity", str(rig.key_path),
                        "--accept-new-host-keys")
    assert result.returncode == 0, result.stderr
    assert f"sweeping {rig.sweep_cidr}" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "TYPE", "STATUS"]
    assert sum(" online " in line for line in lines) == 6
    assert any(line.startswith(rig["d8"].ip + ": ") and "authentication refused" in line for line in lines)


@pytest.mark.rig
def test_unknown_keys_without_consent_are_errors_not_trusted(rig: Rig, tmp_path: Path) -> None:
    devices = devices_of(sdv_studio(rig, tmp_path, "scan", "--cidr", f"{rig['d4'].ip}/32", "--json", "--no-mdns",
                                    "--user", rig.user, "--identity", str(rig.key_path)))
    d4 = devices[rig["d4"].ip]
    assert d4["status"] == "error" and "not trusted yet" in d4["reason"]
    assert not (tmp_path / "config" / "known_hosts").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cidr", "10.0.0.0/8"], "--cidr 10.0.0.0/8: wider than a /16; split it into smaller ranges"),
        (["--cidr", "nonsense"], "--cidr nonsense: not an IPv4 network"),
        (["--identity", "/nonexistent/key"], "--identity /nonexistent/key: no such file"),
        (["--port", "0"], "--port 0: must be 1-65535"),
    ],
)
def test_invalid_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    # Refused before any packet is sent: safe outside the rig.
    result = sdv_studio(None, tmp_path, "scan", "--no-mdns", *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
