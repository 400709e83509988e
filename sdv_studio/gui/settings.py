"""What the desktop app remembers between runs, declared: every setting's key, type and default.

They live in an INI file in SDV Studio's config folder (``SDV_STUDIO_HOME`` moves it with everything
else). A value of the wrong type, as a hand edit may leave, reads as the default. The Devices step's
scan defaults are the discovery engine's own (core.scan_defaults), not window state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from sdv_studio import paths
from sdv_studio.core import defaults
from sdv_studio.core.handoff.origins import PLAYGROUND_ORIGINS
from sdv_studio.gui.adapters.discovery import LOCAL_ID
from sdv_studio.gui.qt import QtCore

FILE = "gui-settings.ini"

T = TypeVar("T", str, bool, bytes, tuple[str, ...])


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    default: T


WINDOW_GEOMETRY = Setting("window/geometry", b"")  # QWidget.saveGeometry(); empty: the first-run size
CONFIGURE_FOLDER = Setting("configure/lastFolder", "")  # where Open looks first; empty: the home folder
CONFIGURE_RUNTIME = Setting("configure/runtime", "native")
CONFIGURE_PYTHON = Setting("configure/python", "")  # a device Python; empty: any the packager supports
CONFIGURE_VSS = Setting("configure/vss", "4.0")
DEVICES_SELECTED: Setting[tuple[str, ...]] = Setting("devices/selected", (LOCAL_ID,))  # ticked device ids
KUKSA_CUSTOM_BROKER = Setting("kuksa/custom", "")  # HOST:PORT; empty: each device finds its own
KUKSA_FALLBACK = Setting("kuksa/fallback", True)
PACKAGE_SAVE_FOLDER = Setting("package/saveFolder", "")  # empty: the home folder
REPORT_FOLDER = Setting("complete/reportFolder", "")  # empty: the home folder
# Web pages that may hand code to the window (POST /api/handoff on 127.0.0.1); off: no listener at all.
HANDOFF_ENABLED = Setting("handoff/enabled", True)
HANDOFF_PORT = Setting("handoff/port", str(defaults.HANDOFF_PORT))
HANDOFF_ORIGINS: Setting[tuple[str, ...]] = Setting("handoff/origins", PLAYGROUND_ORIGINS)


def default_path() -> Path:
    return paths.config_dir() / FILE


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._store = QtCore.QSettings(str(self.path), QtCore.QSettings.Format.IniFormat)

    def get(self, setting: Setting[T]) -> T:
        if not self._store.contains(setting.key):
            return setting.default
        return _typed(self._store.value(setting.key), setting.default)

    def set(self, setting: Setting[T], value: T) -> None:
        stored: object = QtCore.QByteArray(value) if isinstance(value, bytes) else value
        self._store.setValue(setting.key, list(value) if isinstance(value, tuple) else stored)

    def sync(self) -> None:
        """Writes what was set to the file now (else Qt writes it soon, and on exit)."""
        self._store.sync()


def _typed(raw: object, default: T) -> T:
    # An INI file keeps text: a bool comes back as "true", a one-item list as its item, an empty one as None.
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        return {"true": True, "false": False}.get(raw.lower(), default) if isinstance(raw, str) else default
    if isinstance(default, bytes):
        return bytes(raw.data()) if isinstance(raw, QtCore.QByteArray) else default
    if isinstance(default, tuple):
        if raw is None:
            return ()
        return tuple(str(item) for item in (raw if isinstance(raw, list) else [raw]))
    return raw if isinstance(raw, str) else default
