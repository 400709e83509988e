"""Where a broker under test runs, so one test can be run against each (``broker_at``).

- ``workstation``: ``sdv-studio broker`` with this machine's Python and its grpcio/protobuf;
- ``py38-runtimes``: this machine's Python with the grpcio and protobuf a Python 3.8 device gets
  (the oldest runtimes the shipped stubs must work with; no Python 3.8 interpreter here);
- ``bullseye``/``trixie``: a foreign rig device (Python 3.9/3.13), the broker started on it as a
  deployment starts it (``start_fallback_broker``), reached through a loopback forward.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import parse_wheel_filename

from sdv_studio.core.defaults import DATABROKER_PORT
from sdv_studio.core.deploy.agent_link.client import AgentClient
from sdv_studio.core.deploy.agent_link.session import agent_session
from sdv_studio.core.deploy.kuksa_wiring import start_fallback_broker
from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
from sdv_studio.core.packaging.vehicle_model import resolve_vss
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.broker.helpers import REPO, broker_process, venv
from tests.rig.forward import LoopbackForward
from tests.rig.rig import Device, Rig

WORKSTATION = "workstation"
OLDEST = "py38-runtimes"
DEVICES = ("bullseye", "trixie")
TARGETS = [WORKSTATION, OLDEST, *(pytest.param(name, marks=pytest.mark.rig) for name in DEVICES)]
START_TIMEOUT = 60.0


@contextmanager
def broker_at(request: pytest.FixtureRequest, vss_version: str = "4.0") -> Iterator[dict[str, Any]]:
    """The broker for ``request.param`` (one of TARGETS) serving that VSS release; yields {"port"}
    on this machine's loopback."""
    target = str(request.param)
    vss = resolve_vss(vss_version)[0]
    if target == WORKSTATION:
        with broker_process("--vss", str(vss)) as info:
            yield info
    elif target == OLDEST:
        with _oldest_runtimes_broker(vss) as info:
            yield info
    else:
        rig: Rig = request.getfixturevalue("foreign_rig")
        with device_broker(rig, rig[target], vss_version) as info:
            yield info


def oldest_runtimes() -> list[str]:
    """grpcio and protobuf as the bundle for a Python 3.8 device pins them (``name==version``)."""
    pins = []
    for name in broker_bundle("3.8", "x86_64").files:
        dist, version, _build, _tags = parse_wheel_filename(name)
        if dist in ("grpcio", "protobuf"):
            pins.append(f"{dist}=={version}")
    return sorted(pins)


@contextmanager
def _oldest_runtimes_broker(vss: Path) -> Iterator[dict[str, Any]]:
    python = venv("broker-py38-runtimes", oldest_runtimes())
    # As on a device: the broker package alone, run from a venv holding only its runtimes.
    with broker_process("--vss", str(vss), program=[str(python), "-m", "sdv_studio.broker"],
                        env={**os.environ, "PYTHONPATH": str(REPO)}) as info:
        yield info


def _with_agent(rig: Rig, device: Device, work: Callable[[AgentClient, dict[str, Any]], Awaitable[object]]) -> None:
    """Run ``work`` with an agent session to ``device``, from the rig's workstation."""
    target = SshTarget(device.ip, user=rig.user, key_file=rig.key_path, use_keyring=False)
    trust = HostKeyTrust(KnownHosts(rig.root / "broker-known-hosts"), accept_new=True)

    async def session() -> None:
        async with agent_session(target, trust, 30.0) as (agent, info):
            await asyncio.wait_for(work(agent, info), START_TIMEOUT)

    with rig.in_workstation():
        asyncio.run(session())


@contextmanager
def device_broker(rig: Rig, device: Device, vss_version: str) -> Iterator[dict[str, Any]]:
    """SDV Studio's databroker started on ``device`` by the deployment's own code, stopped after."""
    # The rig's LAN has no package index: the bundle's wheels come from the cache filled here.
    broker_bundle(device_python(device), "x86_64")
    manifest = {"kuksaConfig": {"vssVersion": vss_version}}
    _with_agent(rig, device, lambda agent, info: start_fallback_broker(agent, manifest, info, with_mqtt=False))
    try:
        with LoopbackForward(device.netns, DATABROKER_PORT) as forward:
            yield {"port": forward.port}
    finally:
        _with_agent(rig, device, lambda agent, _info: agent.call("service", {"action": "stop", "name": "databroker"}))


def device_python(device: Device) -> str:
    """The device's python3 as major.minor."""
    out = device.run("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'").stdout
    return out.strip()
