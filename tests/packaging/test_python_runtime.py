"""Which Python the packager's venv and pip subprocesses use, unfrozen and frozen."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sdv_studio.child_env import child_env
from sdv_studio.core import python_runtime


@pytest.fixture(autouse=True)
def _fresh() -> None:
    python_runtime.interpreter.cache_clear()


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)


def _fake_python(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\necho {version}\n")
    script.chmod(0o755)
    return script


def test_unfrozen_uses_the_running_interpreter(tmp_path: Path) -> None:
    assert python_runtime.interpreter() == (sys.executable,)
    assert python_runtime.pip(tmp_path) == (sys.executable, "-m", "pip")
    assert not (tmp_path / "tools").exists()


@pytest.mark.usefixtures("frozen")
def test_frozen_takes_sdv_studio_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDV_STUDIO_PYTHON", sys.executable)
    assert python_runtime.interpreter() == (sys.executable,)


@pytest.mark.usefixtures("frozen")
def test_frozen_finds_python3_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SDV_STUDIO_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    found = python_runtime.interpreter()
    assert Path(found[0]).parent == Path(sys.executable).parent


@pytest.mark.usefixtures("frozen")
def test_frozen_skips_too_old_or_broken_pythons(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SDV_STUDIO_PYTHON", raising=False)
    _fake_python(tmp_path / "a", "python3", "3.6")
    _fake_python(tmp_path / "b", "python", "garbage")
    good = tmp_path / "c" / "python3.11"
    good.parent.mkdir()
    good.symlink_to(sys.executable)
    monkeypatch.setenv("PATH", f"{tmp_path / 'a'}:{tmp_path / 'b'}:{tmp_path / 'c'}")
    assert python_runtime.interpreter() == (str(good),)


@pytest.mark.usefixtures("frozen")
def test_frozen_without_python_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SDV_STUDIO_PYTHON", raising=False)
    _fake_python(tmp_path, "python3", "3.7")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(python_runtime.PythonRuntimeError, match="SDV_STUDIO_PYTHON"):
        python_runtime.interpreter()


@pytest.mark.usefixtures("frozen")
def test_frozen_pip_uses_an_existing_tool_venv(tmp_path: Path) -> None:
    python = python_runtime.venv_executable(tmp_path / "tools" / "pip", "python")
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert python_runtime.pip(tmp_path) == (str(python), "-m", "pip")


def test_foreign_programs_get_the_users_library_path_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", "/bundle/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/opt/lib")
    assert child_env()["LD_LIBRARY_PATH"] == "/bundle/_internal"  # unfrozen: untouched
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    env = child_env()
    assert env["LD_LIBRARY_PATH"] == "/opt/lib" and "LD_LIBRARY_PATH_ORIG" not in env
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG")
    assert "LD_LIBRARY_PATH" not in child_env()


def test_venv_executable_layout(tmp_path: Path) -> None:
    assert python_runtime.venv_executable(tmp_path, "gen-model") == tmp_path / "bin" / "gen-model"


@pytest.mark.usefixtures("frozen")
def test_frozen_on_macos_also_looks_where_finder_apps_cannot_see(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    monkeypatch.delenv("SDV_STUDIO_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there, like Finder's PATH
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(python_runtime, "_MACOS_PYTHON_DIRS", (str(Path(sys.executable).parent),))
    assert Path(python_runtime.interpreter()[0]).parent == Path(sys.executable).parent



def test_a_tool_venv_that_cannot_be_installed_leaves_nothing_behind(tmp_path: Path) -> None:
    venv = tmp_path / "tools" / "broken"
    missing = tmp_path / "no-such-1.0-py3-none-any.whl"
    with pytest.raises(python_runtime.PythonRuntimeError, match=f"could not make the tool venv {venv}: .*"):
        python_runtime.make_tool_venv(venv, ["--no-index", str(missing)])
    assert not venv.exists()
