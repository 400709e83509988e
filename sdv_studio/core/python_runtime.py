"""A real Python interpreter for the subprocesses that need one: ``venv`` and ``pip``.

From a source checkout or a pip install that is the interpreter running SDV Studio. In a frozen
bundle ``sys.executable`` is the bundle's own binary, which can neither create a venv nor run pip,
and dispatching ``-m pip`` through it would need the whole stdlib and pip frozen in. So a frozen
SDV Studio uses a Python found on this computer (3.8+ with ``venv`` and ``ensurepip``):
``SDV_STUDIO_PYTHON`` if set, else ``python3``/``python`` on PATH, else the Windows ``py -3``
launcher; pip runs from a tool venv made with it once, so the system Python needs no pip of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from sdv_studio.child_env import child_env, frozen
from sdv_studio.core.errors import Unavailable

MIN_VERSION = (3, 8)
_PROBE = "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"
_MACOS_PYTHON_DIRS = ("/opt/homebrew/bin", "/usr/local/bin",
                      "/Library/Frameworks/Python.framework/Versions/Current/bin")
_pip_lock = threading.Lock()  # wheels are fetched for several arches at once


class PythonRuntimeError(Unavailable):
    """No usable Python interpreter, or its tool venv could not be made."""


def venv_executable(venv: Path, name: str) -> Path:
    """A console script or interpreter inside ``venv`` (``Scripts\\name.exe`` on Windows)."""
    if os.name == "nt":
        return venv / "Scripts" / f"{name}.exe"
    return venv / "bin" / name


@lru_cache(maxsize=1)
def interpreter() -> tuple[str, ...]:
    """The command that runs a Python able to create venvs (e.g. ``("/usr/bin/python3",)``)."""
    if not frozen():
        return (sys.executable,)
    candidates = _candidates()
    for command in candidates:
        if _usable(command):
            return command
    tried = ", ".join(" ".join(c) for c in candidates) or "nothing on PATH"
    raise PythonRuntimeError(
        f"no Python {MIN_VERSION[0]}.{MIN_VERSION[1]}+ with venv on this computer (tried {tried}); "
        "install Python 3 (on Debian/Ubuntu also python3-venv) or set SDV_STUDIO_PYTHON"
    )


def _candidates() -> list[tuple[str, ...]]:
    override = os.environ.get("SDV_STUDIO_PYTHON")
    if override:
        return [(override,)]  # an explicit choice is the only one tried
    found: list[tuple[str, ...]] = []
    names = ["python3", "python", *(f"python3.{minor}" for minor in range(14, MIN_VERSION[1] - 1, -1))]
    search = os.environ.get("PATH", os.defpath)
    if sys.platform == "darwin":
        # An app started from Finder gets only /usr/bin:/bin:/usr/sbin:/sbin: add Homebrew and python.org.
        search = os.pathsep.join([search, *_MACOS_PYTHON_DIRS])
    for name in names:
        path = shutil.which(name, path=search)
        if path and (path,) not in found:
            found.append((path,))
    launcher = shutil.which("py") if os.name == "nt" else None
    if launcher:
        found.append((launcher, "-3"))
    return found


def _usable(command: tuple[str, ...]) -> bool:
    # Windows' Store alias python.exe exists on PATH but is no interpreter: the probe weeds it out.
    try:
        done = subprocess.run([*command, "-c", _PROBE], capture_output=True, text=True, timeout=30,
                              check=False, env=child_env())
    except (OSError, subprocess.TimeoutExpired):
        return False
    try:
        major, minor = (int(part) for part in done.stdout.strip().split("."))
    except ValueError:
        return False
    return done.returncode == 0 and (major, minor) >= MIN_VERSION


def pip(tools_root: Path) -> tuple[str, ...]:
    """The command that runs pip (``… -m pip``); frozen, from a tool venv under ``tools_root``."""
    if not frozen():
        return (sys.executable, "-m", "pip")
    venv = tools_root / "tools" / "pip"
    python = venv_executable(venv, "python")
    with _pip_lock:
        if not python.is_file():
            # ensurepip's pip can be years old (3.8 ships 20.x): manylinux_2_x tags need a recent one.
            make_tool_venv(venv, ["--upgrade", "pip"])
    return (str(python), "-m", "pip")


def make_tool_venv(venv: Path, install: Sequence[str]) -> None:
    """A fresh venv at ``venv`` made by :func:`interpreter`, with ``pip install *install`` run in it;
    on failure nothing is left behind and PythonRuntimeError says what pip (or venv) said last."""
    shutil.rmtree(venv, ignore_errors=True)
    python = venv_executable(venv, "python")
    steps = [[*interpreter(), "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *install]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False, env=child_env())
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PythonRuntimeError(f"could not make the tool venv {venv}: {detail}")


__all__ = ["PythonRuntimeError", "frozen", "interpreter", "make_tool_venv", "pip", "venv_executable"]
