"""Every agent command, by name: the module and function that answer it.

Each call is a short-lived process, so a command imports only the module it needs: importing
them all cost more CPU than most commands themselves (tens of ms a call on a small board).
"""

from __future__ import annotations

import importlib

from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Callable, Dict, Optional, Tuple

    Handler = Callable[[Layout, Dict[str, Any]], Optional[Dict[str, Any]]]


COMMANDS: Dict[str, Tuple[str, str]] = {
    "info": ("device", "info"),
    "prepare": ("device", "prepare"),
    "metrics": ("device", "metrics"),
    "install": ("install", "install"),
    "receive": ("receive", "receive"),
    "deploy": ("lifecycle", "deploy"),
    "stage": ("staging", "stage"),
    "unstage": ("staging", "unstage"),
    "switch-staged": ("staging", "switch_staged"),
    "watch-staged": ("staged_watch", "watch_staged"),
    "start": ("lifecycle", "start"),
    "stop": ("lifecycle", "stop"),
    "status": ("apps", "status"),
    "health": ("apps", "app_health"),
    "logs": ("apps", "app_logs"),
    "rollback": ("apps", "rollback"),
    "uninstall": ("apps", "uninstall"),
    "inventory": ("apps", "inventory"),
    "signals": ("signals", "signals"),
    "venv": ("services", "venv"),
    "service": ("services", "service"),
    "mdns": ("services", "mdns"),
    "relay": ("services", "relay"),
    "supervisor": ("client", "control"),
    "supervise": ("supervisor", "supervise"),
}


def handler(command: str) -> "Handler":
    module, function = COMMANDS[command]
    return getattr(importlib.import_module("." + module, __package__), function)
