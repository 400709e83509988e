"""On the rig: a kuksa-client program written as the KUKSA documentation writes it (connected at
module level, its own loop) passes the health gate, and the signals its project adds in a .vspec
overlay exist on the fallback databroker, which loads the package's catalogue."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import APPS, agent_status, broker_token, build, deploy
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig

DOCS_PROGRAM = """\
import time

from kuksa_client.grpc import Datapoint, VSSClient

with VSSClient('127.0.0.1', 55555) as client:
    on = False
    while True:
        on = not on
        client.set_current_values({
            'Vehicle.Cabin.DogMode': Datapoint(on),
            'Vehicle.Cabin.DogModeTemperature': Datapoint(21.5),
        })
        time.sleep(0.5)
"""
READ_BACK = """\
import os
from kuksa_client.grpc import VSSClient

with VSSClient('127.0.0.1', 55555, token=os.environ['KUKSA_TOKEN']) as client:
    print(client.get_current_values(['Vehicle.Cabin.DogModeTemperature'])['Vehicle.Cabin.DogModeTemperature'].value)
"""


def test_kuksa_documentation_program_with_overlay_signals_runs_on_the_fallback_broker(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    project = tmp_path / "dogmode"
    project.mkdir()
    (project / "main.py").write_text(DOCS_PROGRAM)
    shutil.copy(APPS / "velocitas_dogmode" / "app" / "vspec" / "dogmode.vspec", project / "dogmode.vspec")
    package = build(tmp_path, project, "dogmode", platforms=["x86_64"])
    assert "support/vss.json" in package.entries

    device = rig["d5"]
    device.stop_sdv_apps()  # a databroker an earlier test left would be used, without the overlay's signals
    result, _ = deploy(rig, [device], package, trust, DeploymentRecords(tmp_path / "records"))
    assert result.status == "completed", [(d.message, d.logs[-8:]) for d in result.devices]
    [app] = agent_status(device, "dogmode")["apps"]
    assert app["status"] == "running"
    done = subprocess.run(["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-c", READ_BACK],
                          capture_output=True, text=True, timeout=30, check=False,
                          env={**os.environ, "KUKSA_TOKEN": broker_token()})
    assert done.stdout.strip() == "21.5", done.stderr
