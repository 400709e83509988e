from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sdv_studio import __version__


def test_version_prints_contract_form() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sdv_studio", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"sdv-studio {__version__}"


def test_unknown_option_exits_2_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sdv_studio", "--no-such-flag"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def _cli(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sdv_studio", *args], capture_output=True, text=True, check=False,
                          env=env, input=stdin, timeout=120)


def test_a_home_that_does_not_exist_is_named_not_a_traceback(tmp_path: Path) -> None:
    """As a user other than root, so the missing parent cannot simply be created."""
    missing = tmp_path / "gone" / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("SDV_STUDIO_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")}
    env["HOME"] = str(missing)
    tmp_path.chmod(0o555)
    try:
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        result = subprocess.run([*as_nobody, sys.executable, "-m", "sdv_studio", "devices", "list"],
                                capture_output=True, text=True, check=False, env=env, timeout=120)
    finally:
        tmp_path.chmod(0o755)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1 and str(tmp_path) in result.stderr, result.stderr
    assert "set SDV_STUDIO_HOME to a folder you can write to" in result.stderr


def test_the_window_with_an_unusable_home_says_what_to_do() -> None:
    env = dict(os.environ, SDV_STUDIO_HOME="/proc/1/sdv-studio-home", QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-m", "sdv_studio"], capture_output=True, text=True, check=False,
                            env=env, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert "cannot make its folder /proc/1/sdv-studio-home" in result.stderr and "SDV_STUDIO_HOME" in result.stderr


def test_a_path_too_long_for_the_system_is_named(tmp_path: Path) -> None:
    too_long = tmp_path / ("x" * 300)
    result = _cli("deployments", "deploy_" + "0" * 12, env=dict(os.environ, SDV_STUDIO_HOME=str(too_long)))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1 and "File name too long" in result.stderr, result.stderr


def test_end_of_input_at_the_password_prompt_is_invalid_input(tmp_path: Path) -> None:
    result = _cli("devices", "add", "10.20.0.5", "--ask-password", env=dict(os.environ, SDV_STUDIO_HOME=str(tmp_path)))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2 and "no password given" in result.stderr, result.stderr


def test_a_link_goes_without_a_command() -> None:
    result = _cli("scan", "sdv-studio://open?name=p&code=cGFzcw")
    assert result.returncode == 2
    assert "link opens the desktop app" in result.stderr and "Traceback" not in result.stderr
