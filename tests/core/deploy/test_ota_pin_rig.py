"""deployment.otaEnabled on the rig: false pins the installed version (another version is refused
with what to do, unless forced); true, the default, takes updates."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import APPS, FAST, agent_status, build, deploy
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig


def test_ota_disabled_pins_the_installed_version_until_a_forced_deploy(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device, records = rig["d6"], DeploymentRecords(tmp_path / "records")
    pinned = build(tmp_path, APPS / "light_counter.py", "pinned", "1.0.0", ota_enabled=False)
    update = build(tmp_path, APPS / "light_counter.py", "pinned", "1.1.0")
    later = build(tmp_path, APPS / "light_counter.py", "pinned", "1.2.0")
    assert deploy(rig, [device], pinned, trust, records)[0].status == "completed"
    [before] = agent_status(device, "pinned")["apps"]

    refused, _ = deploy(rig, [device], update, trust, records)
    row = refused.device("d6")
    assert row.status == "error" and row.stage == "compatibility", row  # refused before anything was sent
    assert "pinned 1.0.0 is pinned on this device" in row.message and "--force" in row.message, row.message
    [kept] = agent_status(device, "pinned")["apps"]
    assert (kept["version"], kept["status"], kept["pid"]) == ("1.0.0", "running", before["pid"])

    # The same version again is no update: it is not refused.
    assert deploy(rig, [device], pinned, trust, records)[0].status == "completed"

    forced, _ = deploy(rig, [device], update, trust, records, replace(FAST, force=True))
    assert forced.status == "completed", forced.device("d6").message
    assert agent_status(device, "pinned")["apps"][0]["version"] == "1.1.0"

    # 1.1.0's package takes updates (otaEnabled defaults to true): no force needed.
    assert deploy(rig, [device], later, trust, records)[0].status == "completed"
    assert agent_status(device, "pinned")["apps"][0]["version"] == "1.2.0"
