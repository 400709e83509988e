"""``sdv-studio package`` as CONTRACT.md says: --json shape, exit 2 with one line per problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sdv_studio.cli import main
from sdv_studio.core.packaging import manifest_of

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["package", str(APPS / "kuksa_app.py"), "--platform", "x86_64", "--python", "3.11",
                 "--output", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"packageId", "path", "checksum", "size", "createdAt"}
    assert re.fullmatch(r"pkg_[0-9a-f]{16}", data["packageId"])
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", data["checksum"])
    assert Path(data["path"]) == tmp_path / "kuksa-app-1.0.0.tar.gz"
    assert data["size"] == Path(data["path"]).stat().st_size
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["createdAt"])
    assert "kuksa app" in err  # progress goes to stderr


def test_same_input_same_checksum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sums = []
    for out_dir in ("a", "b"):
        assert main(["package", str(APPS / "playground_export_code.json"), "--python", "3.11", "--output",
                     str(tmp_path / out_dir), "--json"]) == 0
        sums.append(json.loads(capsys.readouterr().out)["checksum"])
    assert sums[0] == sums[1]


def test_invalid_input_exits_2_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["package", str(APPS / "kuksa_app.py"), "--name", "Bad_Name", "--version", "1", "--memory", "1MB",
                 "--cpu", "0", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = [ln for ln in err.splitlines() if ":" in ln and not ln.startswith(("note", "downloading"))]
    assert lines == [
        "name: must be lowercase letters, digits and hyphens",
        "version: must be a semantic version x.y.z, e.g. 1.0.0",
        "deployment.resourceLimits.memory: must be at least 128MB",
        "deployment.resourceLimits.cpu: must be at least 0.1",
    ]


def test_syntax_error_and_missing_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "main.py"
    bad.write_text("import os\n\n\nif True\n    pass\n")
    assert main(["package", str(bad)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["main.py:4:8: SyntaxError: expected ':'"]
    assert main(["package", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_python_takes_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", str(APPS / "kuksa_app.py"), "--platform", "x86_64", "--python", "3.11, 3.9",
                 "--output", str(tmp_path), "--json"]) == 0
    manifest = manifest_of(Path(json.loads(capsys.readouterr().out)["path"]))
    assert manifest["pythonVersions"] == ["3.9", "3.11"] and manifest["pythonVersion"] == "3.9"
    assert set(manifest["wheelSets"]) == {"3.9-x86_64", "3.11-x86_64"}  # type: ignore[arg-type]


def test_bad_python_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", str(APPS / "kuksa_app.py"), "--python", "3.7,3.11,three", "--json"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "python: 3.7: must be a Python version 3.8 or newer, like 3.11",
        "python: three: must be a Python version 3.8 or newer, like 3.11",
    ]
