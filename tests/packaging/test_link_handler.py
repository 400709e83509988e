"""The Linux bundle's install.sh makes SDV Studio the handler of sdv-studio:// links, as xdg-mime sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.locations import REPO

LINUX = REPO / "packaging" / "linux"


@pytest.mark.skipif(not shutil.which("xdg-mime"), reason="needs xdg-utils")
def test_install_registers_the_link_handler(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(LINUX, bundle)
    (bundle / "sdv-studio").write_text("#!/bin/sh\n")
    (bundle / "sdv-studio").chmod(0o755)
    (bundle / "sdv-studio.png").write_bytes(b"")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_DATA_DIRS": str(home / "none")}
    subprocess.run(["sh", str(bundle / "install.sh")], env=env, check=True, capture_output=True, timeout=60)
    entry = home / ".local/share/applications/sdv-studio.desktop"
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    assert exec_line == f"Exec={home}/.local/lib/sdv-studio/sdv-studio %u"
    query = subprocess.run(["xdg-mime", "query", "default", "x-scheme-handler/sdv-studio"], env=env,
                           check=True, capture_output=True, text=True, timeout=60)
    assert query.stdout.strip() == "sdv-studio.desktop"


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="needs desktop-file-utils")
def test_the_desktop_entry_is_valid_and_takes_links() -> None:
    entry = LINUX / "sdv-studio.desktop"
    subprocess.run(["desktop-file-validate", str(entry)], check=True, capture_output=True, timeout=60)
    assert "MimeType=x-scheme-handler/sdv-studio;" in entry.read_text().splitlines()
