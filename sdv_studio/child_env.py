"""The environment for programs SDV Studio starts that are not itself.

A frozen (PyInstaller) bundle points LD_LIBRARY_PATH at its own libraries and keeps the user's
value in LD_LIBRARY_PATH_ORIG; a system Python, mosquitto or a user's app must load their own.
Stdlib only: the databroker shipped to devices uses it too.
"""

from __future__ import annotations

import os
import sys


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    if frozen():
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original is None:
            env.pop("LD_LIBRARY_PATH", None)
        else:
            env["LD_LIBRARY_PATH"] = original
    return env
