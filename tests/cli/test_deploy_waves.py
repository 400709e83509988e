"""`deploy --waves`: its options checked before anything starts, and the rollout's shape in --json.
In-process; nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sdv_studio.cli import main
from sdv_studio.cli.errors import EXIT_FAILED, EXIT_INVALID
from sdv_studio.core.packaging.builder import BuildOptions, build_package

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "data" / "apps"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, captured.out, captured.err.splitlines()


@pytest.mark.parametrize(("options", "problem"), [
    (["--waves", "1,,100%"], "--waves 1,,100%: '' is neither a count of devices (1 or more) nor a percentage"),
    (["--waves", "1,half"], "--waves 1,half: 'half' is neither a count of devices (1 or more) nor a percentage"),
    (["--waves", "50%,10%"], "--waves 50%,10%: '10%' does not reach further than the wave before it"),
    (["--waves", "1,100%", "--max-failed", "150%"], "--max-failed 150%: expected a count of devices"),
    (["--waves", "1,100%", "--pause-between", "-5"], "--pause-between: must not be negative"),
    (["--max-failed", "1"], "--max-failed: only with --waves"),
    (["--rollback-wave"], "--rollback-wave: only with --waves"),
], ids=["empty", "word", "shrinking", "max-failed", "pause", "max-failed-alone", "rollback-alone"])
def test_invalid_wave_options_exit_2_naming_the_option(home: Path, capsys: pytest.CaptureFixture[str],
                                                       options: list[str], problem: str) -> None:
    """Named with the other problems, all at once; nothing is started."""
    code, out, lines = run(capsys, "deploy", "pkg_0123456789abcdef", "--device", "127.0.0.1:1", *options)
    assert (code, out) == (EXIT_INVALID, "")
    assert len(lines) == 2 and lines[0].startswith(problem), lines
    assert lines[1] == "pkg_0123456789abcdef: no package with this id in the local store"


def test_a_failed_wave_skips_the_next_and_json_shows_the_waves(home: Path, tmp_path: Path) -> None:
    """Nothing listens on 127.0.0.1 ports 1 and 2: the first wave fails, the second is skipped. In a
    process of its own, as a user runs it: progress on stderr, the deployment on stdout."""
    package = build_package(APPS / "light_counter.py", BuildOptions(name="light", output_dir=tmp_path,
                                                                     python_versions=["3.11"]))
    done = subprocess.run([sys.executable, "-m", "sdv_studio", "deploy", str(package.path), "--device", "127.0.0.1:1",
                           "--device", "127.0.0.1:2", "--waves", "1,100%", "--json"],
                          capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert done.returncode == EXIT_FAILED, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    assert [(d["deviceId"], d["status"]) for d in result["devices"]] == [
        ("127.0.0.1:1", "error"), ("127.0.0.1:2", "skipped")]
    assert result["waves"] == [{"index": 1, "devices": ["127.0.0.1:1"], "status": "failed", "failed": 1},
                               {"index": 2, "devices": ["127.0.0.1:2"], "status": "skipped", "failed": 0}]
    lines = done.stderr.splitlines()
    assert "wave 1 (1 device(s): 127.0.0.1:1): failed, 1 failed" in lines
    assert ("127.0.0.1:2: Skipped: wave 1 failed (1 of 1 devices, more than the 0 allowed); nothing was done "
            "on the device") in lines
