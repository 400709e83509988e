"""Core's failures reach the user of the command line once, the same way: their lines on stderr, exit 2
for invalid input and 1 for a failure, never a traceback. In-process; nothing leaves this computer."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.cli import main
from sdv_studio.cli.errors import EXIT_FAILED, EXIT_INVALID, report
from sdv_studio.core.errors import InvalidInput, NotFound, OperationFailed, Problems, Unavailable


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err.splitlines()


@pytest.mark.parametrize(("exc", "code"), [
    (InvalidInput(["--port 0: must be 1-65535", "--identity k: no such file"]), EXIT_INVALID),
    (NotFound(["ID: no deployment deploy_x"]), EXIT_INVALID),
    (OperationFailed(["d1: cannot connect"]), EXIT_FAILED),
    (Unavailable(["devices.json: cannot be read (Permission denied)"]), EXIT_FAILED),
], ids=["invalid", "not-found", "failed", "unavailable"])
def test_each_kind_prints_its_lines_with_its_exit_code(exc: Problems, code: int,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert report(exc) == code
    captured = capsys.readouterr()
    assert captured.err.splitlines() == exc.problems and captured.out == ""


def test_an_unknown_id_the_inventory_refuses_is_invalid_input(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "devices", "remove", "nosuch") == (EXIT_INVALID, ["nosuch: no saved device with this id"])


def test_a_package_and_a_device_that_are_not_usable_are_named_together(home: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys, "deploy", str(home / "missing.tar.gz"), "--device", "bad host!", "--device", "x@")
    assert code == EXIT_INVALID
    assert lines[0] == f"{home / 'missing.tar.gz'}: no such package file or packageId"
    assert [line.split(": ")[0] for line in lines[1:]] == ["--device bad host!", "--device x@"]


def test_an_inventory_that_cannot_be_read_is_a_failure(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = home / "data" / "devices.json"
    inventory.parent.mkdir(parents=True)
    inventory.write_text("[")
    code, lines = run(capsys, "devices", "list")
    assert code == EXIT_FAILED
    assert len(lines) == 1 and lines[0].startswith(f"{inventory}: not a device inventory (")
    assert lines[0].endswith("; fix or remove the file")


def test_a_damaged_deployment_record_is_a_failure(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = home / "data" / "deployments" / "deploy_0123456789ab.json"
    record.mkdir(parents=True)  # a folder where the record should be
    code, lines = run(capsys, "deployments", "deploy_0123456789ab")
    assert code == EXIT_FAILED
    assert len(lines) == 1 and lines[0].startswith(f"{record}: ")
    assert lines[0].endswith("; the record is damaged: remove the file")


def test_a_build_that_cannot_finish_is_a_failure(home: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: the requirement is in no cache nor index
    project = home / "project"
    project.mkdir()
    (project / "main.py").write_text("import time\nwhile True:\n    time.sleep(1)\n")
    (project / "requirements.txt").write_text("sdv-studio-no-such-distribution==1.0\n")
    code, lines = run(capsys, "package", str(project), "--python", "3.11", "--platform", "x86_64",
                      "--output", str(home / "out"))
    assert code == EXIT_FAILED
    failures = [line for line in lines if line.startswith("requirements: ")]
    assert failures and all("sdv-studio-no-such-distribution==1.0 (requirements.txt:1)" in line
                            for line in failures), lines
