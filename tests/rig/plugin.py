"""pytest fixtures for the device rig; one rig per test session, torn down even on failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
from sdv_studio.core.device_wheels.zeroconf_wheels import zeroconf_wheels
from tests.rig.rig import Rig, foreign_specs, missing_tools


def rig_unavailable_reason(foreign: bool = False) -> str | None:
    if os.geteuid() != 0:
        return "the device rig needs root (network and mount namespaces); run ./dev.sh test as root"
    missing = missing_tools(engine=True, foreign=foreign)
    if missing:
        return f"the device rig needs these programs: {', '.join(missing)} (./dev.sh test installs them)"
    return None


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    reason = rig_unavailable_reason()
    if reason:
        pytest.skip(reason)
    # The rig's LAN has no route to PyPI: fetch the wheels of the databroker that deployments
    # start on devices, and of the devices' mDNS advertiser, into the shared wheel cache now.
    broker_bundle("3.11", "x86_64")
    zeroconf_wheels("3.11", "x86_64")
    built = Rig.build()
    try:
        yield built
    finally:
        built.teardown()


@pytest.fixture(scope="session")
def foreign_rig() -> Iterator[Rig]:
    """A rig of foreign devices (tests/rig/rig.py foreign_specs): Debian bullseye and trixie."""
    reason = rig_unavailable_reason(foreign=True)
    if reason:
        pytest.skip(reason)
    for python in ("3.9", "3.13"):  # bullseye's and trixie's, fetched before entering the LAN
        broker_bundle(python, "x86_64")
        zeroconf_wheels(python, "x86_64")
    built = Rig.build(foreign_specs())
    try:
        yield built
    finally:
        built.teardown()


@pytest.fixture(scope="session")
def rig_known_hosts(rig: Rig) -> Path:
    """A known_hosts file trusting every rig device's current host key."""
    return known_hosts(rig)


@pytest.fixture(scope="session")
def foreign_known_hosts(foreign_rig: Rig) -> Path:
    return known_hosts(foreign_rig)


def known_hosts(rig: Rig) -> Path:
    """A known_hosts file in the rig's folder trusting every device's current host key."""
    path = rig.root / "known_hosts"
    lines = []
    for dev in rig.devices.values():
        key_type, key = dev.host_key_fingerprint_file().read_text().split()[:2]
        lines.append(f"{dev.ip} {key_type} {key}")
    path.write_text("\n".join(lines) + "\n")
    return path
