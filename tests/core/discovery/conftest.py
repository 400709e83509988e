"""Helpers for discovery tests: run scans on the rig's LAN, advertise services from inside a device."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tests.rig.rig import Device, Rig

T = TypeVar("T")


def on_lan(rig: Rig, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """A fresh event loop whose thread (and every thread and socket it makes) is the rig's workstation."""
    with rig.in_workstation():
        return asyncio.run(make())


@contextmanager
def advertise(dev: Device, service_type: str, instance: str, port: int, props: dict[str, str]) -> Iterator[None]:
    """Register an mDNS service with python-zeroconf from inside ``dev``'s network namespace."""
    code = (
        "import socket, sys, time\n"
        "from zeroconf import ServiceInfo, Zeroconf\n"
        f"info = ServiceInfo({service_type!r}, {instance + '.' + service_type!r},"
        f" addresses=[socket.inet_aton({dev.ip!r})], port={port}, properties={props!r},"
        f" server={dev.name + '.local.'!r})\n"
        f"zc = Zeroconf(interfaces=[{dev.ip!r}])\n"
        "zc.register_service(info)\n"
        "print('registered', flush=True)\n"
        "sys.stdin.read()\n"  # until the test closes our stdin
        "zc.unregister_service(info)\n"
        "zc.close()\n"
    )
    proc = subprocess.Popen(
        ["nsenter", "-t", str(dev.pid), "-n", "--", sys.executable, "-c", code],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline().strip()
        assert line == "registered", proc.stderr.read()
        yield
    finally:
        proc.kill()
        proc.wait(timeout=10)
