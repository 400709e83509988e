"""The API over real HTTP against rig devices: discover → package → deploy → poll to completed,
progress over a WebSocket in order, metrics, and deployments that outlive their clients but not
the server.

The server's socket is on this namespace's 127.0.0.1; its event loop runs on the rig's LAN, so the
sweeps and SSH connections it makes reach the devices and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.targets import ConnectionDefaults
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.api.server import TOKEN, RunningApi, running_api
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]
LIGHT = (Path(__file__).resolve().parents[1] / "data" / "apps" / "light_counter.py").read_text()
STAGES = [10, 30, 60, 80, 90, 95, 100]


def settings_for(rig: Rig, home: Path) -> ApiSettings:
    return ApiSettings(token=TOKEN, connection=ConnectionDefaults(user=rig.user, key_file=rig.key_path),
                       trust=HostKeyTrust(KnownHosts(home / "known_hosts"), accept_new=True),
                       grace_seconds=1.0, device_timeout=20.0, shutdown_timeout=60.0)


@pytest.fixture(scope="module")
def rig_api(rig: Rig, api_home: Path) -> Iterator[RunningApi]:
    with running_api(settings_for(rig, api_home), netns=rig.in_workstation) as running:
        yield running


def poll(client: httpx.Client, deployment_id: str, limit: float = 240) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        response = client.get(f"/api/deployments/{deployment_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] not in ("pending", "in-progress"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"{deployment_id} still running after {limit}s: {body}")


async def follow(api: RunningApi, deployment_id: str, stop_after: int | None = None) -> list[dict]:
    """Every message of the deployment's event stream, until the server closes it (or ``stop_after``)."""
    url = f"{api.ws_url}/api/deployments/{deployment_id}/events"
    received: list[dict] = []
    async with websockets.connect(url, additional_headers=api.auth, open_timeout=20) as ws:
        async for message in ws:
            received.append(json.loads(message))
            if stop_after is not None and len(received) >= stop_after:
                break
        else:
            assert ws.close_code == 1000
    return received


def test_discover_package_deploy_and_follow(rig: Rig, rig_api: RunningApi) -> None:
    with rig_api.client() as client:
        found = client.get("/api/devices/discover", params={"cidr": rig.sweep_cidr, "mdns": "false"}, timeout=120)
        assert found.status_code == 200, found.text
        devices = {d["ip"]: d for d in found.json()["devices"]}
        working = [d.ip for d in rig.working()]
        assert len(working) == 6
        for ip in working:
            assert devices[ip]["status"] == "online" and devices[ip]["compatible"], devices[ip]
            assert set(devices[ip]) >= {"id", "name", "type", "ip", "status", "runtime", "architecture",
                                        "capabilities", "lastSeen"}
        assert devices[rig["d1"].ip]["type"] == "jetson-orin"

        built = client.post("/api/apps/package", json={"name": "api-light", "code": LIGHT,
                                                       "runtimeMode": "native", "platforms": ["x86_64"]})
        assert built.status_code == 200, built.text
        package = built.json()

        started = client.post("/api/deployments", json={
            "packageId": package["packageId"], "devices": [devices[ip]["id"] for ip in working],
            "deploymentMode": "standard", "rollbackEnabled": True})
        assert started.status_code == 200, started.text
        first = started.json()
        assert first["status"] == "in-progress"
        assert [d["deviceId"] for d in first["devices"]] == working
        assert started.headers["location"].endswith(f"/api/deployments/{first['deploymentId']}")
        deployment_id = first["deploymentId"]

        async def watch() -> tuple[list[dict], list[dict]]:
            # One follower leaves early: the deployment must not notice.
            return await asyncio.gather(follow(rig_api, deployment_id), follow(rig_api, deployment_id, 2))

        events, early = asyncio.run(watch())
        assert len(early) == 2

        final = poll(client, deployment_id)
        assert final["status"] == "completed", final
        for row in final["devices"]:
            assert (row["status"], row["progress"]) == ("success", 100), row
            assert row["startTime"] and row["endTime"]
        assert final["startTime"] and final["endTime"]

        # Every event, in order: seq counts up from 0, each device's stages in order, finished last.
        assert [e["seq"] for e in events] == list(range(len(events)))
        assert events[-1] == {"seq": len(events) - 1, "deploymentId": deployment_id, "status": "completed",
                              "kind": "finished"}
        for ip in working:
            progress = [e["progress"] for e in events if e["kind"] == "progress" and e["deviceId"] == ip]
            assert progress == STAGES, (ip, progress)
        # A client that connects after the end still gets the whole story.
        assert asyncio.run(follow(rig_api, deployment_id)) == events

        metrics = client.get(f"/api/devices/{working[0]}/metrics")
        assert metrics.status_code == 200, metrics.text
        body = metrics.json()
        assert body["deviceId"] == working[0]
        assert body["memory"]["total"] > 0 and 0 <= body["cpu"]["percent"] <= 100
        assert "api-light" in {app["name"] for app in body["apps"]}

        history = client.get("/api/deployments").json()["deployments"]
        assert history[0]["deploymentId"] == deployment_id


def test_shutdown_cancels_deployments_in_flight(rig: Rig, api_home: Path) -> None:
    records = DeploymentRecords()
    with running_api(settings_for(rig, api_home), netns=rig.in_workstation) as api, api.client() as client:
        built = client.post("/api/apps/package", json={"name": "api-slow", "code": LIGHT, "platforms": ["x86_64"]})
        assert built.status_code == 200, built.text
        started = client.post("/api/deployments", json={"packageId": built.json()["packageId"],
                                                        "devices": [rig["d5"].ip, rig["d6"].ip]})
        assert started.status_code == 200, started.text
        deployment_id = started.json()["deploymentId"]
        api.stop()
    # Stopping waited for the cancelled devices to settle and saved the record.
    record = records.load(deployment_id)
    assert record.status == "cancelled", record
    assert [d.status for d in record.devices] == ["cancelled", "cancelled"], record.devices
    assert record.end_time is not None
