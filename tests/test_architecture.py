"""The package's shape: Qt stays in sdv_studio.gui, and the import contracts in pyproject.toml hold
(cli > gui | api > core > agent | broker | models > shared helpers; what ships to devices imports
nothing it does not ship with)."""

from __future__ import annotations

import subprocess
import sys

NON_GUI = [
    "sdv_studio.cli",
    "sdv_studio.core",
    "sdv_studio.models",
    "sdv_studio.broker",
    "sdv_studio.agent",
    "sdv_studio.api",
]


def test_non_gui_packages_do_not_load_qt() -> None:
    # A fresh interpreter: importing everything that is not GUI must leave Qt unloaded.
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {NON_GUI!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
        "        if '.proto' in info.name:\n"
        "            continue\n"
        "        importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync'))\n"
        "print('\\n'.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt loaded outside sdv_studio.gui: {result.stdout}"


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "--no-cache"], capture_output=True, text=True, check=False
    )
    if "No module named importlinter.cli" in result.stderr:
        result = subprocess.run(["lint-imports", "--no-cache"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
