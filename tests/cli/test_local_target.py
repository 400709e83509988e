"""With no hardware: `--device local` deploys to this computer, no SSH server needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.locations import REPO

APP = REPO / "tests" / "data" / "apps" / "light_counter.py"


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SDV_STUDIO_HOME=str(home / "studio"))
    return subprocess.run([sys.executable, "-m", "sdv_studio", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=300, check=False)


def test_package_deploy_status_stop_on_this_computer(local_target_home: Path) -> None:
    built = cli(local_target_home, "package", str(APP), "--name", "here", "--json")
    assert built.returncode == 0, built.stderr
    package_id = json.loads(built.stdout)["packageId"]

    deployed = cli(local_target_home, "deploy", package_id, "--device", "local", "--json", "--grace", "1",
                   "--broker", "127.0.0.1:1")  # no databroker needed by this app; don't start one
    assert deployed.returncode == 0, deployed.stderr
    [row] = json.loads(deployed.stdout)["devices"]
    assert (row["deviceId"], row["status"], row["progress"]) == ("local", "success", 100)
    assert (local_target_home / ".local/share/sdv-studio/apps/here").is_dir()  # in the sandbox, nowhere else

    status = json.loads(cli(local_target_home, "status", "here", "--device", "local", "--json").stdout)
    [app] = status["devices"][0]["apps"]
    assert app["status"] == "running" and app["pid"] > 0
    assert cli(local_target_home, "stop", "here", "--device", "local").returncode == 0
    after = json.loads(cli(local_target_home, "status", "here", "--device", "local", "--json").stdout)
    assert after["devices"][0]["apps"][0]["status"] == "stopped"


def test_the_packages_hot_swap_setting_is_the_default_and_the_command_line_overrides_it(
        local_target_home: Path) -> None:
    def deploy(version: str, *flags: str) -> dict:
        built = cli(local_target_home, "package", str(APP), "--name", "swap", "--version", version, "--json")
        assert built.returncode == 0, built.stderr
        done = cli(local_target_home, "deploy", json.loads(built.stdout)["packageId"], "--device", "local", "--json",
                   "--grace", "1", "--broker", "127.0.0.1:1", *flags)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    deploy("1.0.0")
    swapped = deploy("2.0.0")  # packages say hotSwap: true unless told otherwise
    assert swapped["deploymentMode"] == "hot-swap"
    assert "running (hot-swap)" in swapped["devices"][0]["message"], swapped["devices"][0]  # the agent did it
    standard = deploy("3.0.0", "--no-hot-swap")
    assert standard["deploymentMode"] == "standard"
    assert "running (stop-start)" in standard["devices"][0]["message"], standard["devices"][0]
