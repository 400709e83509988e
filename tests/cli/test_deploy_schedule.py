"""`deploy --when idle --idle …` / `--at …` / `--cancel-staged`: their options checked against the
package before anything starts, each problem naming the option. In-process; nothing leaves 127.0.0.1."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> str:
    built = build_package(APPS / "light_counter.py", BuildOptions(name="light", output_dir=tmp_path_factory.mktemp(
        "pkg"), python_versions=["3.11"]))
    return str(built.path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, captured.out, captured.err.splitlines()


@pytest.mark.parametrize(("options", "problem"), [
    (["--when", "idle", "--idle", "Vehicle.Speeed == 0"],
     "--idle: Vehicle.Speeed: no such signal in the package's VSS catalogue"),
    (["--when", "idle", "--idle", "Vehicle.Speed == stopped"],
     "--idle: Vehicle.Speed: the value to compare with must be a number, true, false or a quoted string, "
     "got 'stopped'"),
    (["--when", "idle", "--idle", "Vehicle.Speed == true"],
     "--idle: Vehicle.Speed is a float signal, compared with a boolean"),
    (["--when", "idle", "--idle", "Vehicle.Speed"], "--idle: 'Vehicle.Speed': expected PATH OP VALUE"),
    (["--idle", "Vehicle.Speed == 0"], "--idle: only with --when idle"),
    (["--at", "02:00-25:00"], "--at: 02:00-25:00: hours go from 00 to 23 and minutes from 00 to 59"),
    (["--at", "2am"], "--at: must be a time window HH:MM-HH:MM, e.g. 02:00-04:00"),
    (["--when", "idle", "--at", "02:00-04:00"], "--at: give either --when idle or --at, not both"),
], ids=["unknown-signal", "word", "kind", "no-operator", "idle-alone", "hour", "window-word", "both"])
def test_a_bad_schedule_exits_2_naming_the_option(home: Path, package: str, capsys: pytest.CaptureFixture[str],
                                                  options: list[str], problem: str) -> None:
    code, out, lines = run(capsys, "deploy", package, "--device", "127.0.0.1:1", *options)
    assert (code, out) == (EXIT_INVALID, "")
    assert lines == [lines[0]] and lines[0].startswith(problem), lines


def test_cancel_staged_takes_an_app_and_no_package(home: Path, package: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, lines = run(capsys, "deploy", package, "--cancel-staged", "Light!", "--device", "127.0.0.1:1")
    assert code == EXIT_INVALID
    assert lines[0] == "PACKAGE: not with --cancel-staged" and lines[1].startswith("--cancel-staged: "), lines
    code, _out, lines = run(capsys, "deploy", "--device", "127.0.0.1:1")
    assert (code, lines) == (EXIT_INVALID, ["PACKAGE: name the package to deploy (or give --cancel-staged APP)"])


def test_cancel_staged_on_an_unreachable_device_fails_naming_it(home: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, lines = run(capsys, "deploy", "--cancel-staged", "light", "--device", "127.0.0.1:1", "--timeout", "5")
    assert code == EXIT_FAILED and lines[0].startswith("127.0.0.1:1: "), lines
