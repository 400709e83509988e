"""Pure-Python wheels built here from source distributions that have no wheel on the index.

Devices install offline from wheels (``pip download --only-binary=:all:``), but some releases the
ecosystem pins exist only as sdists: paho-mqtt 1.6.1 (velocitas-sdk 0.14 requires paho-mqtt<2),
docopt 0.6.2 (amqtt 0.10, the MQTT broker for Python 3.8 and 3.9 devices). A pure-Python sdist
builds into a wheel every device can use: it is built once, into the wheel cache's files folder,
where the download's ``--find-links`` finds it. An sdist with compiled code is never built (the
wheel would fit this workstation only, and grpcio's build alone takes many minutes): such a
requirement stays unresolved and is reported as having no wheel.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
import tempfile
import threading
import zipfile
from pathlib import Path

from sdv_studio.child_env import child_env
from sdv_studio.core import python_runtime
from sdv_studio.core.errors import OperationFailed

# Source files that mean a compiled extension (C, C++, Cython, Rust, Fortran).
_COMPILED = (".c", ".cc", ".cpp", ".cxx", ".pyx", ".rs", ".f", ".f90")
# The same bytes on every workstation: one build backend (the last setuptools that runs on
# Python 3.8, so any workstation Python can run it) and one timestamp (1980-01-01, the zip
# format's first) for every file in the wheel.
_BACKEND = "setuptools==75.3.2"
_SOURCE_DATE_EPOCH = "315532800"
_TIMEOUT = 300
_lock = threading.Lock()  # fleet resolutions run in threads: one build of a sdist at a time


class SdistBuildFailed(OperationFailed):
    """pip could not fetch or build the sdist (offline, a broken sdist): the message says why."""


def pure_wheel(requirement: str, cache: Path) -> Path | None:
    """The wheel built from ``requirement``'s sdist (a requirements-file line, ``--hash`` allowed),
    in ``cache``/files; None when the sdist has compiled code. Blocking."""
    with _lock:
        marker = cache / "sdists" / f"{hashlib.sha256(requirement.encode()).hexdigest()[:24]}.compiled"
        if marker.exists():
            return None
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache, prefix="sdist-") as tmp:
            work = Path(tmp)
            (work / "requirements.txt").write_text(requirement + "\n")
            sdist = _download(cache, work)
            if _has_compiled_code(sdist):
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
                return None
            built = _build(cache, work, sdist)
            target = cache / "files" / built.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.replace(built, target)
            return target


def _pip(cache: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        pip = python_runtime.pip(cache.parent)
    except python_runtime.PythonRuntimeError as exc:
        raise SdistBuildFailed(str(exc)) from exc
    try:
        return subprocess.run([*pip, *args, "--disable-pip-version-check", "--no-input", "--progress-bar", "off"],
                              capture_output=True, text=True, check=False, env=env or child_env(), timeout=_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise SdistBuildFailed(f"pip took longer than {_TIMEOUT} s") from exc


def _download(cache: Path, work: Path) -> Path:
    done = _pip(cache, "download", "--no-deps", "--no-binary=:all:", "-r", str(work / "requirements.txt"),
                "-d", str(work / "sdist"))
    found = sorted((work / "sdist").glob("*")) if done.returncode == 0 else []
    if len(found) != 1:
        raise SdistBuildFailed(_last_error(done.stderr, "pip found no source distribution"))
    return found[0]


def _has_compiled_code(sdist: Path) -> bool:
    try:
        if sdist.suffix == ".zip":
            with zipfile.ZipFile(sdist) as archive:
                names = archive.namelist()
        else:
            with tarfile.open(sdist) as archive:
                names = archive.getnames()
    except (OSError, tarfile.TarError, zipfile.BadZipFile):
        return True  # unreadable: don't try to build it
    return any(name.lower().endswith(_COMPILED) for name in names)


def _build(cache: Path, work: Path, sdist: Path) -> Path:
    constraint = work / "build-constraints.txt"
    constraint.write_text(_BACKEND + "\n")
    # pip 25.3+ takes the backend pin as a build constraint; older pips apply constraints to builds.
    env = {**child_env(), "SOURCE_DATE_EPOCH": _SOURCE_DATE_EPOCH, "PIP_BUILD_CONSTRAINT": str(constraint),
           "PIP_CONSTRAINT": str(constraint)}
    # --use-pep517: an isolated build with the pinned backend, also where pip would run setup.py.
    done = _pip(cache, "wheel", "--no-cache-dir", "--no-deps", "--use-pep517", str(sdist), "-w", str(work / "out"),
                env=env)
    wheels = sorted((work / "out").glob("*-none-any.whl")) if done.returncode == 0 else []
    if len(wheels) != 1:
        raise SdistBuildFailed(_last_error(done.stderr, f"building {sdist.name} made no pure-Python wheel"))
    return wheels[0]


def _last_error(stderr: str, fallback: str) -> str:
    errors = [line.strip() for line in stderr.splitlines() if line.startswith("ERROR")]
    return (errors or [line.strip() for line in stderr.strip().splitlines()] or [fallback])[-1]
