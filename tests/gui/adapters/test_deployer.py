"""The GUI's deploy settings reach the real engine: a wave plan given to CoreDeployer is the one the
deployment runs by, seen in its waves and wave events; a schedule stages the release, which status
reports and cancel_staged takes back (This computer as the device, no hardware)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sdv_studio.core.deploy.events import DeviceProgress, WaveChanged
from sdv_studio.core.deploy.schedule import Schedule
from sdv_studio.core.deploy.waves import WavePlan, parse_max_failed, parse_waves
from sdv_studio.core.packaging import BuildOptions, build_package
from sdv_studio.gui.adapters.deployer import AppOnDevice, CoreDeployer, DeploySettings, StagedOnDevice, app_on_device
from sdv_studio.gui.adapters.discovery import Approvals, this_computer
from sdv_studio.models.deployment import AppState, StagedCheck

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


def test_a_schedule_stages_the_release_and_cancel_staged_takes_it_back(local_target_home: Path,
                                                                       tmp_path: Path) -> None:
    """A time window that excludes now: This computer stages the release (the row's ``staged``), status
    reports it staged with its condition, and cancel_staged takes it back as --cancel-staged does."""
    built = build_package(FAILS_WITH_MARKER, BuildOptions(name="stage-me", output_dir=tmp_path))
    later = datetime.now() + timedelta(hours=2)
    window = f"{later:%H}:00-{(later + timedelta(hours=1)):%H}:00"
    deployer, device = CoreDeployer(Approvals()), this_computer()

    async def stage_then_cancel() -> tuple[list[DeviceProgress], bool, AppOnDevice, str, AppOnDevice]:
        run = await deployer.start(built.path, [device], DeploySettings(schedule=Schedule(window=window)))
        events = [e async for e in run.events() if isinstance(e, DeviceProgress)]
        staged = await deployer.status(device, "stage-me")
        said = await deployer.cancel_staged(device, "stage-me")
        return events, run.staged(device.id), staged, said, await deployer.status(device, "stage-me")

    events, row_staged, staged, said, after = asyncio.run(stage_then_cancel())
    assert (events[-1].status, row_staged) == ("success", True), events[-1].message
    assert "start" not in [e.stage for e in events]  # installed, never started
    assert staged.status == AppOnDevice.STAGED and staged.staged is not None  # nothing ran before it
    assert (staged.staged.version, staged.staged.condition) == ("1.0.0", window)
    assert said == f"cancelled stage-me 1.0.0 (staged to start {window}); what runs is unchanged"
    assert after.staged is None and after.status != AppOnDevice.STAGED


def test_the_devices_staged_entry_and_its_last_start_are_read_apart_from_what_runs() -> None:
    apps = [AppState(name="idler", version="1.0.0", status="running", pid=42, last_staged={
                "release": "1.0.0-a", "version": "1.0.0", "outcome": "failed", "reason": "health gate",
                "rolledBack": True, "at": "2026-01-01T10:00:00Z"}),
            AppState(name="idler", version="2.0.0", status="staged", condition="Vehicle.Speed == 0",
                     last_check=StagedCheck(at="2026-01-01T10:05:00Z", holds=False, values={"Vehicle.Speed": 50.0})),
            AppState(name="other", version="9", status="staged", condition="02:00-04:00")]
    seen = app_on_device(apps, None, "idler")
    at = datetime.fromisoformat("2026-01-01T10:05:00Z").astimezone().strftime("%H:%M:%S")
    assert (seen.status, seen.version, seen.detail) == ("running", "1.0.0", "native · pid 42")
    assert seen.staged == StagedOnDevice("2.0.0", "Vehicle.Speed == 0", f"Vehicle.Speed 50.0 at {at}", False)
    assert seen.last_staged.startswith("1.0.0 failed to start at ") and seen.last_staged.endswith(
        ": health gate; the version before runs")
    window = app_on_device(apps, None, "other")
    assert (window.status, window.staged) == (AppOnDevice.STAGED, StagedOnDevice("9", "02:00-04:00"))
    assert app_on_device(apps, None, "gone").status == AppOnDevice.ABSENT
