"""Where SDV Studio keeps its files on the workstation.

``SDV_STUDIO_HOME`` moves all of them under one folder (tests, portable installs);
otherwise the OS conventions from platformdirs apply. The files installed with the program: sdv_studio.shipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_APP = "sdv-studio"


def _home_override() -> Path | None:
    value = os.environ.get("SDV_STUDIO_HOME")
    return Path(value) if value else None


class FolderUnusable(OSError):
    """One of SDV Studio's own folders cannot be made (a missing or read-only home, for one)."""


def _ensure(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderUnusable(exc.errno, f"SDV Studio cannot make its folder {path} ({exc.strerror}); "
                             "set SDV_STUDIO_HOME to a folder you can write to") from exc
    return path


def config_dir() -> Path:
    """Settings, the API token and our own known_hosts."""
    home = _home_override()
    return _ensure(home / "config" if home else Path(PlatformDirs(_APP).user_config_dir))


def data_dir() -> Path:
    """The device inventory, the package store and deployment records."""
    home = _home_override()
    return _ensure(home / "data" if home else Path(PlatformDirs(_APP).user_data_dir))


def cache_dir() -> Path:
    """Downloaded wheels and other things that can be fetched again."""
    home = _home_override()
    return _ensure(home / "cache" if home else Path(PlatformDirs(_APP).user_cache_dir))


def log_dir() -> Path:
    """Log files: the desktop app's, with the tracebacks of what went wrong."""
    home = _home_override()
    return _ensure(home / "logs" if home else Path(PlatformDirs(_APP).user_log_dir))


def log_file() -> Path:
    """The desktop app's rotating log; the older ones end in .1, .2, .3."""
    return log_dir() / "sdv-studio.log"


def user_path(text: str) -> Path:
    """A path a user typed, ``~`` expanded; as typed when the home it names does not exist (``~nobody``),
    so the check that follows reports "no such file" instead of a crash."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)
