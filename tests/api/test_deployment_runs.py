"""The deployments' cached JSON: encoded once per change, never stale while a run moves on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sdv_studio.api.deployment_runs import Deployments
from sdv_studio.core.deploy.orchestrator import DeploymentRun, DeviceTask, JobOutcome, StepReporter
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.models.deployment import Deployment, DeviceDeployment


async def test_snapshot_follows_every_saved_change(tmp_path: Path) -> None:
    deployments = Deployments(tmp_path)
    staged, release = asyncio.Event(), asyncio.Event()

    async def job(step: StepReporter) -> JobOutcome:
        await step.stage(Stage.COMPATIBILITY)
        staged.set()
        await release.wait()
        await step.stage(Stage.TRANSFER)
        return JobOutcome(runtime="native")

    deployment = Deployment(deployment_id="deploy_00112233445566778899", package_id="pkg_0123456789abcdef",
                            app_name="light", app_version="1.0.0", devices=[DeviceDeployment(device_id="a")])
    run = DeploymentRun(deployment, [DeviceTask("a", "a", job)], deployments.records).start()
    deployments.add(run)
    assert json.loads(deployments.snapshot(run.deployment_id))["devices"][0]["progress"] == 0
    await asyncio.wait_for(staged.wait(), 10)
    first = deployments.snapshot(run.deployment_id)
    assert json.loads(first)["devices"][0]["progress"] == 10
    assert deployments.snapshot(run.deployment_id) is first  # unchanged: the same bytes, not encoded again
    release.set()
    await run.wait()
    last = json.loads(deployments.snapshot(run.deployment_id))
    assert (last["status"], last["devices"][0]["progress"]) == ("completed", 100)
    assert last == deployments.records.load(run.deployment_id).to_json_dict()
    await deployments.shutdown(5)
