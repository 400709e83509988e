"""``sdv-studio --self-test`` un-frozen and offscreen: the same check the installers' CI runs."""

from __future__ import annotations

import os
import subprocess
import sys

from sdv_studio.gui.window import PAGES


def test_self_test_opens_every_page_and_exits_0(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SDV_STUDIO_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "sdv_studio", "--self-test"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "window shown: 'SDV Studio' on offscreen"
    assert [line.split(": ", 1)[1] for line in lines if line.startswith("page ")] == [p.title for p in PAGES]
    assert lines[-2:] == ["window closed", "self-test ok"]
    assert "Traceback" not in done.stderr
