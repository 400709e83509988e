"""The GUI's deploy settings reach the real engine: a wave plan given to CoreDeployer is the one the
deployment runs by, seen in its waves and wave events (This computer as the device, no hardware)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sdv_studio.core.deploy.events import WaveChanged
from sdv_studio.core.deploy.waves import WavePlan, parse_max_failed, parse_waves
from sdv_studio.core.packaging import BuildOptions, build_package
from sdv_studio.gui.adapters.deployer import CoreDeployer, DeploySettings
from sdv_studio.gui.adapters.discovery import Approvals, this_computer

FAILS_WITH_MARKER = Path(__file__).resolve().parents[2] / "data" / "apps" / "fails_with_marker.py"


@pytest.mark.parametrize(("max_failed", "wave_status"), [("0", "failed"), ("100%", "completed")])
def test_the_wave_plan_and_its_failure_limit_reach_the_engine(local_target_home: Path, tmp_path: Path,
                                                             max_failed: str, wave_status: str) -> None:
    built = build_package(FAILS_WITH_MARKER, BuildOptions(name="wave-limit", output_dir=tmp_path))
    (local_target_home / "sdv-test-fail-marker").touch()  # the app exits at once: its health gate fails
    plan = WavePlan(parse_waves("1"), parse_max_failed(max_failed))

    async def deploy() -> tuple[list[tuple[int, list[str], str]], list[WaveChanged]]:
        run = await CoreDeployer(Approvals()).start(built.path, [this_computer()], DeploySettings(waves=plan))
        planned = [(w.index, w.devices, w.status) for w in run.waves()]
        return planned, [e async for e in run.events() if isinstance(e, WaveChanged)]

    planned, waves = asyncio.run(deploy())
    assert planned == [(1, ["local"], "pending")]
    # One failure of one device: over a limit of 0, within one of 100%.
    assert [(e.index, e.status, e.failed) for e in waves] == [(1, "in-progress", 0), (1, wave_status, 1)]
