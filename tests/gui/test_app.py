"""The app's start-up: once the engines' libraries and the Monitor's plotting are loaded, the
garbage collector's full collections no longer walk them (each walk stalled the window for 70-85 ms)."""

from __future__ import annotations

import json
import subprocess
import sys

# In a fresh interpreter: what this test process loaded and froze before would blur the figures.
PROBE = """
import gc, json
from sdv_studio.gui.app import load_engines
figures = {"loaded": len(gc.get_objects())}
load_engines()
figures["after_engines"] = len(gc.get_objects())
from sdv_studio.gui.monitor import window
figures["after_monitor"] = len(gc.get_objects())
figures["frozen"] = gc.get_freeze_count()
print(json.dumps(figures))
"""


def test_a_full_collection_walks_only_what_was_made_since_the_libraries_loaded() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""}).stdout
    figures = json.loads(out)
    # gc.get_objects() lists what a full collection walks: frozen objects are not among them.
    assert figures["after_engines"] < 1_000 and figures["after_monitor"] < 1_000, figures
    assert figures["frozen"] > 100_000 > figures["loaded"], figures
