"""The folder an export writes: refused when it holds something other than an earlier export of the
same kind, and cleared of that earlier export's files before writing (nothing stale stays behind)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path


def refused_output(output: Path, marked: str, mark: str) -> str | None:
    """Why ``output`` cannot take the export: a file, or a folder with things in it whose ``marked``
    file does not start with ``mark`` (it is not an earlier export); None when it can."""
    if output.exists() and not output.is_dir():
        return f"--output {output}: not a folder"
    if not output.is_dir() or not any(output.iterdir()):
        return None
    written = output / marked
    if written.is_file() and written.read_text(encoding="utf-8", errors="replace").startswith(mark):
        return None
    return f"--output {output}: not empty and not an earlier export; name a new or empty folder"


def clear_earlier_export(output: Path, names: Sequence[str]) -> None:
    """Removes the files and folders ``names`` an earlier export wrote into ``output``."""
    for name in names:
        path = output / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
