"""python-zeroconf's wheels for a device's Python and architecture: what its agent needs to
advertise the device over mDNS where avahi is missing (unpacked there, no pip, no network)."""

from __future__ import annotations

import threading
from functools import lru_cache

from packaging.requirements import Requirement

from sdv_studio.core.packaging import wheels

_lock = threading.Lock()


@lru_cache(maxsize=8)
def _wheels(python_version: str, arch: str) -> dict[str, bytes]:
    # Unpinned: pip picks the newest zeroconf that supports the device's Python (3.8 included).
    vendored = wheels.vendor([Requirement("zeroconf")], python_version, [arch])
    return {path.name: path.read_bytes() for paths in vendored.wheels.values() for path in paths}


def mdns_wheels(python_version: str, arch: str) -> dict[str, bytes]:
    """``{wheel file name: bytes}``, from the shared wheel cache. Blocking (it may run pip)."""
    with _lock:
        return _wheels(python_version, arch)
