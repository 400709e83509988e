"""Asking an app's health endpoint the way a prober would, for the template tests."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """Status and body; retried while nothing listens yet (the app is starting)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def health_until(port: int, wanted: int, timeout: float = 20) -> dict[str, Any]:
    """The /health answer once it has the ``wanted`` status (checks are redone at most every second)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = http_get(port, "/health")
        if status == wanted or time.monotonic() > deadline:
            assert status == wanted, body
            return dict(json.loads(body))
        time.sleep(0.2)
