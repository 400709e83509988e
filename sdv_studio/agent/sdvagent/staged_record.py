"""A staged request on disk: ``staged.json`` in the app's folder (what is to start, and when), and
``staged-observed.json`` beside it (the watcher's last look at the condition). See staging.py."""

from __future__ import annotations

import contextlib
import os

from .jsonfile import read_json
from .store import AppStore

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Optional

RECORD = "staged.json"
OBSERVED = "staged-observed.json"  # the watcher's last look at the condition, for status


def record_path(store: AppStore) -> str:
    return os.path.join(store.root, RECORD)


def observed_path(store: AppStore) -> str:
    return os.path.join(store.root, OBSERVED)


def read_record(store: AppStore) -> Optional[Dict[str, Any]]:
    record = read_json(record_path(store))
    return record if isinstance(record, dict) and record.get("release") else None


def drop_record(store: AppStore) -> Optional[Dict[str, Any]]:
    """Removes the app's staged request (call with the app's lock held); the one removed."""
    record = read_record(store)
    for path in (record_path(store), observed_path(store)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return record


def view(store: AppStore) -> Optional[Dict[str, Any]]:
    """What ``status`` shows of the app's staged request: the version, its condition and the
    watcher's last look at it; None when nothing is staged."""
    record = read_record(store)
    if not record:
        return None
    seen = read_json(observed_path(store)) or {}
    when = record.get("when") or {}
    shown = {"release": record["release"], "version": record.get("version"), "packageId": record.get("packageId"),
             "condition": when.get("idle") or when.get("window"), "kind": "idle" if "idle" in when else "window",
             "stagedAt": record.get("stagedAt")}
    if seen.get("release") == record["release"]:
        shown["observed"] = {k: seen.get(k) for k in ("at", "holds", "values", "error", "switching")}
    return shown
