"""The app's declared settings: typed values that round-trip, read back from hand edits, under SDV_STUDIO_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sdv_studio.gui import settings as declared
from sdv_studio.gui.settings import Settings


def test_the_file_is_in_the_config_folder_under_sdv_studio_home(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    store = Settings()
    store.set(declared.KUKSA_CUSTOM_BROKER, "10.0.0.5:55555")
    store.sync()
    assert store.path == tmp_path / "config" / declared.FILE
    assert "10.0.0.5:55555" in store.path.read_text()


def test_every_type_round_trips_through_the_file(tmp_path: Path) -> None:
    # Written here, read in another process: what comes back is what the file holds, not Qt's cache.
    path = tmp_path / "settings.ini"
    store = Settings(path)
    store.set(declared.WINDOW_GEOMETRY, b"\x01\xd9\xd0\xcb\x00\x03")
    store.set(declared.KUKSA_FALLBACK, False)
    store.set(declared.DEVICES_SELECTED, ("local",))
    store.set(declared.CONFIGURE_VSS, "6.0")
    store.sync()
    code = (
        "import sys\n"
        "from sdv_studio.gui import settings as s\n"
        "store = s.Settings(__import__('pathlib').Path(sys.argv[1]))\n"
        "print(repr([store.get(s.WINDOW_GEOMETRY), store.get(s.KUKSA_FALLBACK), store.get(s.DEVICES_SELECTED),"
        " store.get(s.CONFIGURE_VSS), store.get(s.REPORT_FOLDER)]))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         env=env).stdout
    assert out.strip() == repr([b"\x01\xd9\xd0\xcb\x00\x03", False, ("local",), "6.0", ""])


def test_hand_edits_read_as_their_type_or_the_default(tmp_path: Path) -> None:
    path = tmp_path / "edited.ini"
    path.write_text("[kuksa]\nfallback=maybe\n[devices]\nselected=a, b\n[window]\ngeometry=wide\n"
                    "[configure]\nvss=5.0\n")
    store = Settings(path)
    assert store.get(declared.KUKSA_FALLBACK) is True
    assert store.get(declared.DEVICES_SELECTED) == ("a", "b")
    assert store.get(declared.WINDOW_GEOMETRY) == b""
    assert store.get(declared.CONFIGURE_VSS) == "5.0"
    store.set(declared.DEVICES_SELECTED, ())
    assert store.get(declared.DEVICES_SELECTED) == ()  # nothing ticked stays nothing, not the default
