"""The engine devices' base image: Debian's Python, built once with mmdebstrap and cached.

No container registry is reachable here, so ``python:3.11-slim`` is made from Debian
packages (bookworm's python3 is 3.11) and imported into a read-only image store that
every engine device lists under ``additionalimagestores``. Like the real
python:*-slim images it has ``python`` on PATH and pip may install system-wide.
"""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

CACHE = Path("/var/cache/sdv-rig")
STORE = CACHE / "store"
BASE_IMAGE = "docker.io/library/python:3.11-slim"
# Bump when the recipe changes so cached stores are rebuilt.
RECIPE = "2:python3,python3-venv,python3-pip,python-is-python3,passwd"
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")


def _podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", "--root", str(STORE), "--runroot", str(CACHE / "runroot"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _sources() -> bytes:
    # Given as mmdebstrap's mirror "-" (its standard input): this machine's configured mirror,
    # instead of naming one.
    if SOURCES.exists():
        return SOURCES.read_bytes()
    legacy = Path("/etc/apt/sources.list")
    return legacy.read_bytes() if legacy.exists() else b"deb http://deb.debian.org/debian bookworm main\n"


def ensure_base_image() -> str:
    """Build and import the base image unless the cached store already holds it."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test runs share one build
        stamp = CACHE / "recipe"
        if stamp.exists() and stamp.read_text() == RECIPE and _podman("image", "exists", BASE_IMAGE).returncode == 0:
            return BASE_IMAGE
        tar = CACHE / "rootfs.tar"
        packages = RECIPE.split(":", 1)[1]
        build = subprocess.run(
            [
                "mmdebstrap",
                "--variant=apt",
                "--mode=root",
                f"--include={packages}",
                '--customize-hook=rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED',
                "bookworm",
                str(tar),
                "-",
            ],
            input=_sources(),
            capture_output=True,
            check=False,
        )
        if build.returncode != 0:
            raise RuntimeError(f"mmdebstrap failed: {build.stderr.decode(errors='replace')[-2000:]}")
        _podman("rmi", "-f", BASE_IMAGE)
        imported = _podman(
            "import",
            "--change",
            'CMD=["python3"]',
            "--change",
            "ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            str(tar),
            BASE_IMAGE,
        )
        if imported.returncode != 0:
            raise RuntimeError(f"podman import failed: {imported.stderr[-2000:]}")
        tar.unlink()
        stamp.write_text(RECIPE)
        return BASE_IMAGE
