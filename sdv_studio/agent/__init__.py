"""The device agent: runs on devices, stdlib only, Python 3.8+.

The folder is copied as is to the device (``entrypoint.py`` plus the ``sdvagent`` package) and run
there as ``python3 <agentdir>/entrypoint.py <command> [json]``. This module only tells the workstation
which files make up that folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

AGENT_DIR = Path(__file__).resolve().parent


def agent_files() -> List[Path]:
    """The files to upload, relative to AGENT_DIR (no caches, no this module)."""
    files = [Path("entrypoint.py")]
    files += sorted(p.relative_to(AGENT_DIR) for p in (AGENT_DIR / "sdvagent").rglob("*.py"))
    return files
