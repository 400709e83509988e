"""Enter a network namespace from Python code, per thread.

A network namespace belongs to a thread, and threads inherit the namespace of the
thread that creates them, so code run inside ``inside_netns`` (and the executor
threads and sockets it creates there) lives on the rig's private LAN.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextmanager
def inside_netns(name: str) -> Iterator[None]:
    """Run the calling thread in the named namespace (``ip netns`` name) until exit."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(target)
        os.close(own)
