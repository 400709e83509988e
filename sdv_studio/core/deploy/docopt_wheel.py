"""docopt as a wheel, for amqtt 0.10: the MQTT broker that Python 3.8 and 3.9 devices get.

amqtt 0.10 requires docopt (for its command-line scripts, which the broker never runs), and docopt
was only ever published as a source distribution, while the broker bundle is vendored with
``pip download --only-binary=:all:``. So its wheel is built once, on this workstation, from the
sdist, into the wheel cache's files folder, where that download finds it (``--find-links``).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from sdv_studio.child_env import child_env
from sdv_studio.core import python_runtime
from sdv_studio.core.packaging import wheels

VERSION = "0.6.2"
WHEEL = f"docopt-{VERSION}-py2.py3-none-any.whl"
# The build starts from exactly the sdist on PyPI.
_SDIST_SHA256 = "49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491"
# For the same bytes on every workstation: one build backend (the last setuptools for Python 3.8,
# so any workstation Python can run it) and one timestamp (1980-01-01, the zip format's first) for
# every file in the wheel.
_BACKEND = "setuptools==75.3.2"
_SOURCE_DATE_EPOCH = "315532800"
_BUILD_TIMEOUT = 600


def docopt_wheel() -> Path:
    """The cached wheel, built first when missing. Blocking; raises ``wheels.WheelError`` when it is
    not cached and cannot be built (offline: the build needs PyPI once)."""
    root = wheels.cache_root()
    target = root / "files" / WHEEL
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix="docopt-") as tmp:
        built = _build(root, Path(tmp))
        os.replace(built, target)  # atomic: a concurrent build wrote the same bytes
    return target


def _build(root: Path, tmp: Path) -> Path:
    requirement = tmp / "requirements.txt"
    requirement.write_text(f"docopt=={VERSION} --hash=sha256:{_SDIST_SHA256}\n")
    constraint = tmp / "build-constraints.txt"
    constraint.write_text(_BACKEND + "\n")
    try:
        pip = python_runtime.pip(root.parent)
    except python_runtime.PythonRuntimeError as exc:
        raise _failure(str(exc)) from exc
    # --use-pep517: an isolated build, with the pinned backend, also where pip would run setup.py.
    command = [*pip, "wheel", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
               "--no-cache-dir", "--no-deps", "--use-pep517", "-r", str(requirement), "-w", str(tmp / "out")]
    # pip 25.3+ takes the backend pin as a build constraint; older pips apply constraints to builds.
    env = {**child_env(), "SOURCE_DATE_EPOCH": _SOURCE_DATE_EPOCH,
           "PIP_BUILD_CONSTRAINT": str(constraint), "PIP_CONSTRAINT": str(constraint)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env,
                              timeout=_BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise _failure(f"pip took longer than {_BUILD_TIMEOUT} s") from exc
    built = tmp / "out" / WHEEL
    if done.returncode != 0 or not built.is_file():
        errors = [line.strip() for line in done.stderr.splitlines() if line.startswith("ERROR")]
        raise _failure((errors or done.stderr.strip().splitlines() or ["pip made no wheel"])[-1])
    return built


def _failure(detail: str) -> wheels.WheelError:
    return wheels.WheelError([
        f"docopt {VERSION} (needed by amqtt 0.10, the MQTT broker for Python 3.8 and 3.9 devices): "
        f"its wheel is not in the wheel cache ({wheels.cache_root() / 'files'}) and building it from "
        f"its sdist, which needs PyPI once, failed: {detail}"
    ])
