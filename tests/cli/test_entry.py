from __future__ import annotations

import subprocess
import sys

from sdv_studio import __version__


def test_version_prints_contract_form() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sdv_studio", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"sdv-studio {__version__}"


def test_unknown_option_exits_2_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sdv_studio", "--no-such-flag"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
