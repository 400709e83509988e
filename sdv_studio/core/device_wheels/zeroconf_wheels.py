"""python-zeroconf's wheels for a device's Python and architecture: what its agent needs to
advertise the device over mDNS where avahi is missing (unpacked there, no pip, no network)."""

from __future__ import annotations

import threading
from functools import lru_cache

from packaging.requirements import Requirement

from sdv_studio.core.packaging import wheels
from sdv_studio.core.packaging.wheels import WheelError

_lock = threading.Lock()


@lru_cache(maxsize=8)
def _wheels(python_version: str, arch: str) -> dict[str, bytes] | WheelError:
    # Unpinned: pip picks the newest zeroconf that supports the device's Python (3.8 included).
    # Not patient, and a failure is remembered: advertising is optional, and a workstation in a lab
    # without internet must not wait for pip's retries on every deployment.
    try:
        vendored = wheels.vendor([Requirement("zeroconf")], python_version, [arch], patient=False)
    except WheelError as exc:
        return exc
    return {path.name: path.read_bytes() for paths in vendored.wheels.values() for path in paths}


def zeroconf_wheels(python_version: str, arch: str) -> dict[str, bytes]:
    """``{wheel file name: bytes}``, from the shared wheel cache (fetched once if missing).
    Blocking; WheelError when they cannot be had, for the rest of this process."""
    with _lock:
        found = _wheels(python_version, arch)
    if isinstance(found, WheelError):
        raise found
    return found
