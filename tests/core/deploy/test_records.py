"""Deployment records when the program deploying dies: a real child process runs a deployment and is
killed with SIGKILL; the record reads as in progress while it lives and as interrupted after."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sdv_studio.core.deploy.records import DeploymentRecords

_DEPLOYING = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from sdv_studio.core.deploy.orchestrator import DeploymentRun, DeviceTask, JobOutcome, new_deployment_id
    from sdv_studio.core.deploy.records import DeploymentRecords
    from sdv_studio.core.deploy.stages import Stage
    from sdv_studio.models.deployment import Deployment, DeviceDeployment

    HOLD = sys.argv[2] == "hold"

    async def job(step):
        for stage in (Stage.COMPATIBILITY, Stage.TRANSFER, Stage.INSTALL):
            await step.stage(stage)
        if HOLD:
            await asyncio.sleep(3600)  # killed here, mid-install
        return JobOutcome(runtime="native")

    async def main():
        dep = Deployment(deployment_id=new_deployment_id(), package_id="pkg_0123456789abcdef", app_name="demo",
                         app_version="1.0.0", devices=[DeviceDeployment(device_id=d) for d in ("a", "b")])
        records = DeploymentRecords(Path(sys.argv[1]))
        run = DeploymentRun(dep, [DeviceTask(d, d, job) for d in ("a", "b")], records).start()
        if not HOLD:
            await run.wait()
        print(dep.deployment_id, flush=True)
        await asyncio.sleep(3600 if HOLD else 0)

    asyncio.run(main())
""")


def _wait_for_install_saved(records: DeploymentRecords, deployment_id: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        raw = json.loads((records.folder / f"{deployment_id}.json").read_text())
        if all(d["stage"] == "install" for d in raw["devices"]):
            return
        time.sleep(0.05)
    raise AssertionError(f"the install stage was never saved: {raw}")


def test_a_killed_deployment_reads_as_interrupted_and_only_after_it_died(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", _DEPLOYING, str(tmp_path), "hold"], stdout=subprocess.PIPE,
                             text=True)
    try:
        deployment_id = child.stdout.readline().strip()  # type: ignore[union-attr]
        assert deployment_id.startswith("deploy_"), child.communicate(timeout=30)
        records = DeploymentRecords(tmp_path)
        _wait_for_install_saved(records, deployment_id)
        assert records.load(deployment_id).status == "in-progress"  # its program still runs
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)

    record = records.load(deployment_id)
    assert record.status == "interrupted" and record.end_time is not None
    for row in record.devices:
        assert row.status == "error" and "Interrupted at install" in row.message, row
    # Marked once, on disk: the next reader and the listing agree, and no lock file is left.
    assert json.loads((tmp_path / f"{deployment_id}.json").read_text())["status"] == "interrupted"
    assert [d.status for d in DeploymentRecords(tmp_path).all()] == ["interrupted"]
    assert not list(tmp_path.glob(".*.lock"))


def test_a_finished_deployment_leaves_no_lock_and_stays_as_it_ended(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _DEPLOYING, str(tmp_path), "finish"], capture_output=True,
                          text=True, timeout=60, check=True)
    record = DeploymentRecords(tmp_path).load(done.stdout.strip())
    assert record.status == "completed", record
    assert not list(tmp_path.glob(".*.lock"))
