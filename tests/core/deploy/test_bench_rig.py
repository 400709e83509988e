"""Bench mode on the rig: the playground's default app, deployed where no databroker runs, toggles
the low beam's *current* value on the fallback broker SDV Studio starts there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.core.deploy import DeployOptions
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import APPS, agent_status, build, deploy
from tests.core.deploy.test_rig_scenarios import on_device_python
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
# An independent kuksa-client in the device's network: the current values it sees within 20 s.
WATCH = f"""
import json, os, time
from kuksa_client.grpc import VSSClient
seen = set()
with VSSClient('127.0.0.1', 55555, token=os.environ['KUKSA_TOKEN']) as client:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(seen) < 2:
        point = client.get_current_values([{LOW_BEAM!r}])[{LOW_BEAM!r}]
        if point is not None and point.value is not None:
            seen.add(point.value)
        time.sleep(0.1)
print(json.dumps(sorted(seen)))
"""


def test_playground_default_app_toggles_the_current_value_on_the_fallback_broker(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device = rig["d5"]
    package = build(tmp_path, APPS / "playground_default.py", "bench-playground", python_versions=["3.11"],
                    platforms=["x86_64"])
    result, _ = deploy(rig, [device], package, trust, DeploymentRecords(tmp_path / "records"),
                       DeployOptions(grace_seconds=2.0))
    row = result.device(device.name)
    assert result.status == "completed", (row.message, row.logs[-10:])
    services = {s["name"]: s["status"] for s in agent_status(device, "bench-playground")["services"]}
    assert services.get("databroker") == "running", services  # SDV Studio's fallback broker, no other
    seen = json.loads(on_device_python(device, WATCH, timeout=60).strip().splitlines()[-1])
    assert seen == [False, True]
