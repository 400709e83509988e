"""Where tests find shared material and keep their caches, wherever the clone lives.

CI runs in a fresh clone in another folder with ../shared beside it, so nothing may
name /work/... directly. Slow-to-make things (wheels, the client venvs the tests build)
are cached outside the clone, per machine, so later runs on the same machine reuse them.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SDV_STUDIO_SHARED", REPO.parent / "shared"))
VSS_40 = SHARED / "vss" / "vss_release_4.0.json"
VSS_60 = SHARED / "vss" / "vss_release_6.0.json"
TEST_CACHE = Path(os.environ.get("SDV_STUDIO_TEST_CACHE", Path.home() / ".cache" / "sdv-studio-tests"))
WHEEL_CACHE = TEST_CACHE / "wheels"
VENV_CACHE = TEST_CACHE / "venvs"
APPS = REPO / "tests" / "data" / "apps"


def text_tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` as text by its relative path: a project as a page hands it over."""
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*")) if path.is_file()}
