"""The Linux bundle built for real and run headless. Minutes of CPU: only with SDV_STUDIO_BUILD_BUNDLE=1."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from sdv_studio import __version__
from tests.locations import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),  # the first test also builds the bundle
    pytest.mark.skipif(os.environ.get("SDV_STUDIO_BUILD_BUNDLE") != "1",
                       reason="builds the frozen bundle; set SDV_STUDIO_BUILD_BUNDLE=1"),
]

APP = REPO / "tests" / "data" / "apps" / "playground_default.py"


@pytest.fixture(scope="module")
def tarball() -> Path:
    done = subprocess.run([str(REPO / "packaging" / "build-linux.sh")], cwd=REPO, capture_output=True, text=True,
                          timeout=3600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return REPO / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def binary(tarball: Path) -> Path:
    return REPO / "dist" / "sdv-studio" / "sdv-studio"


def _run(binary: Path, *args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SDV_STUDIO_HOME": str(home)}
    return subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)


def test_tarball_has_the_program_launcher_desktop_entry_and_icon(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = {Path(name).relative_to(Path(name).parts[0]).as_posix() for name in archive.getnames()
                 if len(Path(name).parts) > 1}
    assert {"sdv-studio", "AppRun", "install.sh", "sdv-studio.desktop", "sdv-studio.png"} <= names
    assert "_internal/sdv_studio/resources/vss/default.json" in names
    assert "_internal/sdv_studio/agent/entrypoint.py" in names
    assert "_internal/PySide6/Qt/plugins/platforms/libqxcb.so" in names
    assert "_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so" in names


def test_frozen_version(binary: Path, tmp_path: Path) -> None:
    done = _run(binary, "--version", home=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"sdv-studio {__version__}"


def test_frozen_self_test(binary: Path, tmp_path: Path) -> None:
    done = _run(binary, "--self-test", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "self-test ok"


def test_frozen_package_of_the_playground_default_app(binary: Path, tmp_path: Path) -> None:
    # The shared wheel cache (SDV_STUDIO_WHEEL_CACHE from conftest) keeps this to one download per machine.
    done = _run(binary, "package", str(APP), "--output", str(tmp_path / "out"), "--json", home=tmp_path,
                timeout=1800)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["packageId"].startswith("pkg_") and Path(result["path"]).is_file()
