"""Saving a deployment in flight: written by a thread, saves asked for together written once, and a
save whose caller is cancelled still finished before the next one starts."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sdv_studio.core.deploy.record_writer import RecordWriter
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.models.deployment import Deployment, DeviceDeployment


class SlowRecords(DeploymentRecords):
    """Writes that wait for ``go``, remembering each one's progress and thread."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.go = threading.Event()
        self.written: list[tuple[int, str]] = []

    def write(self, deployment_id: str, data: bytes) -> None:
        self.go.wait(5)
        self.written.append((Deployment.model_validate_json(data).devices[0].progress,
                             threading.current_thread().name))
        super().write(deployment_id, data)


def _deployment() -> Deployment:
    return Deployment(deployment_id="deploy_0000000000000001", package_id="pkg_0123456789abcdef", app_name="demo",
                      app_version="1.0.0", devices=[DeviceDeployment(device_id="d1")])


async def test_saves_asked_for_during_a_write_are_done_by_one_more_write_off_the_loop(tmp_path: Path) -> None:
    records = SlowRecords(tmp_path)
    deployment = _deployment()
    writer = RecordWriter(records, deployment)
    deployment.devices[0].progress = 10
    first = writer.save()
    await asyncio.sleep(0.01)  # the first write has its snapshot and waits in its thread
    waiting = []
    for progress in (30, 60, 80):
        deployment.devices[0].progress = progress
        waiting.append(writer.save())
    records.go.set()
    await asyncio.gather(first, *waiting)
    assert [p for p, _ in records.written] == [10, 80]
    assert all(name != threading.current_thread().name for _, name in records.written)
    assert records.load(deployment.deployment_id).devices[0].progress == 80


async def test_a_cancelled_caller_leaves_its_write_to_finish_before_the_next(tmp_path: Path) -> None:
    records = SlowRecords(tmp_path)
    deployment = _deployment()
    writer = RecordWriter(records, deployment)
    deployment.devices[0].progress = 30
    caller = asyncio.ensure_future(writer.save())
    await asyncio.sleep(0.01)
    caller.cancel()
    deployment.devices[0].progress = 60
    later = writer.save()
    records.go.set()
    await later
    assert [p for p, _ in records.written] == [30, 60]  # in order: the older snapshot never lands last
    assert records.load(deployment.deployment_id).devices[0].progress == 60
