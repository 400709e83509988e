"""Requests without devices: bodies checked with `field: message` lines, unknown ids, size limits,
a package built and downloaded. Nothing here leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.models.deployment import Deployment, DeviceDeployment, utc_now
from tests.api.server import RunningApi

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"
LIGHT = (APPS / "light_counter.py").read_text()


def problems(response: httpx.Response) -> list[str]:
    body = response.json()
    assert set(body) == {"detail", "problems"}, body
    return body["problems"]


@pytest.fixture(scope="module")
def client(api: RunningApi) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


@pytest.fixture(scope="module")
def package(client: httpx.Client) -> dict:
    response = client.post("/api/apps/package", json={"name": "light", "version": "1.2.3", "code": LIGHT})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("body", "expected"), [
    ({"code": "print(1)"}, ["name: is required"]),
    ({"name": "Bad Name", "code": "print(1)"}, ["name: must be lowercase letters, digits and hyphens"]),
    ({"name": "ok", "code": "def f(:\n"}, ["main.py:1:7: SyntaxError: invalid syntax"]),
    ({"name": "ok", "code": "print(1)", "colour": "red"}, ["colour: is not a known field"]),
    ({"name": "ok", "code": "print(1)", "version": "1.0"}, ["version: must be a semantic version x.y.z, e.g. 1.0.0"]),
    ({"name": "ok", "code": "print(1)", "runtimeMode": "vm"}, ["runtimeMode: input should be 'docker' or 'native'"]),
    ({"name": "ok", "code": "print(1)", "pythonVersion": "3.9,2.7"},
     ["pythonVersion: must be Python versions 3.8 or newer, like 3.11 or 3.9,3.11"]),
    ({"name": "ok", "code": "print(1)", "deployment": {"resourceLimits": {"memory": "lots"}}},
     ["deployment.resourceLimits.memory: must be a size like 512MB, 512M, 1GB or 1G"]),
    *[({"name": "ok", "code": "print(1)", "kuksaConfig": {"vssVersion": path}},
       ["kuksaConfig.vssVersion: must be a VSS release like 4.0 or its release URL (…/vss_rel_4.0.json), not a path"])
      for path in ("/etc/shadow", "~/.bashrc", "../resources/vss/default.json", "vss_release_4.0.json")],
], ids=["missing", "name", "syntax", "unknown-field", "version", "runtime", "python", "memory", "vss-abs", "vss-home",
        "vss-relative", "vss-file"])
def test_bad_package_bodies(client: httpx.Client, body: dict, expected: list[str]) -> None:
    response = client.post("/api/apps/package", json=body)
    assert response.status_code == 422
    assert problems(response) == expected


def test_bodies_that_are_not_json_objects(client: httpx.Client) -> None:
    response = client.post("/api/apps/package", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert problems(response)[0].startswith("body: not valid JSON")
    response = client.post("/api/deployments", json=["pkg_0123456789abcdef"])
    assert response.status_code == 422


def test_package_created_and_downloaded(api: RunningApi, client: httpx.Client, package: dict) -> None:
    assert package["packageId"].startswith("pkg_")
    assert package["downloadUrl"] == f"{api.url}/api/packages/{package['packageId']}.tar.gz"
    assert (package["name"], package["version"]) == ("light", "1.2.3")
    download = client.get(package["downloadUrl"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/gzip"
    assert len(download.content) == package["sizeBytes"]
    assert package["checksum"] == f"sha256:{hashlib.sha256(download.content).hexdigest()}"
    assert package["size"].endswith(("KB", "MB")) and package["size"][0].isdigit()
    # Same inputs, same package: the id and bytes do not change.
    again = client.post("/api/apps/package", json={"name": "light", "version": "1.2.3", "code": LIGHT})
    assert again.status_code == 200 and again.json()["packageId"] == package["packageId"]
    assert again.headers["location"] == package["downloadUrl"]


@pytest.mark.parametrize(("body", "expected"), [
    ({"packageId": "pkg_x", "devices": ["d1"]}, "packageId: string should match pattern"),
    ({"packageId": "pkg_0123456789abcdef", "devices": []}, "devices: list should have at least 1 item"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a", "a"]}, "devices: value error, each device may be named"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "deploymentMode": "fast"},
     "deploymentMode: input should be 'hot-swap' or 'standard'"),
    ({"devices": ["a"]}, "packageId: is required"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "brokerToken": "secret"},
     "brokerToken: value error, is not a JWT"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "brokerCa": "-----BEGIN NOTHING-----"},
     "brokerCa: value error, is not a PEM certificate"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "waves": "1,,100%"}, "waves 1,,100%: '' is neither"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "waves": [1, "most"]}, "waves 1,most: 'most' is neither"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "waves": "1,100%", "maxFailed": "200%"},
     "maxFailed 200%: expected a count"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "maxFailed": 1}, "maxFailed: only with waves"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "waves": "1", "pauseBetween": -1},
     "pauseBetween: input should be greater than or equal to 0"),
], ids=["package-id", "no-devices", "twice", "mode", "missing", "token", "ca", "wave-empty", "wave-word",
        "max-failed", "max-failed-alone", "pause"])
def test_bad_deployment_bodies(client: httpx.Client, body: dict, expected: str) -> None:
    response = client.post("/api/deployments", json=body)
    assert response.status_code == 422
    assert problems(response)[0].startswith(expected), problems(response)


def test_deployment_of_unknown_package_or_to_unusable_devices(client: httpx.Client, package: dict) -> None:
    response = client.post("/api/deployments", json={"packageId": "pkg_0123456789abcdef", "devices": ["local"]})
    assert response.status_code == 404
    assert problems(response)[0].startswith("packageId: no package 'pkg_0123456789abcdef'")
    response = client.post("/api/deployments", json={"packageId": package["packageId"],
                                                     "devices": ["bad host!", "x@"]})
    assert response.status_code == 422
    assert [line.split(":")[0] for line in problems(response)] == ["devices", "devices"]
    response = client.post("/api/deployments", json={"packageId": package["packageId"], "devices": ["tag:nobody"]})
    assert response.status_code == 422
    assert problems(response) == ["devices: tag:nobody: no saved device has the tag 'nobody'"]


@pytest.mark.parametrize(("schedule", "expected"), [
    ({"when": "idle", "idleCondition": "Vehicle.Speeed == 0"},
     ["idleCondition: Vehicle.Speeed: no such signal in the package's VSS catalogue"]),
    ({"when": "idle", "idleCondition": "Vehicle.Speed = 0"}, ["idleCondition: 'Vehicle.Speed = 0': expected PATH OP"]),
    ({"idleCondition": "Vehicle.Speed == 0"}, ["idleCondition: only with when idle"]),
    ({"at": "02:00-02:00"}, ["at: 02:00-02:00: the window starts and ends at the same time"]),
    ({"when": "soon"}, ["when: input should be 'idle'"]),
], ids=["unknown-signal", "operator", "alone", "empty-window", "when"])
def test_a_bad_schedule_is_422_naming_the_field(client: httpx.Client, package: dict, schedule: dict,
                                                expected: list[str]) -> None:
    response = client.post("/api/deployments", json={"packageId": package["packageId"], "devices": ["127.0.0.1:1"],
                                                     **schedule})
    assert response.status_code == 422
    found = problems(response)
    assert len(found) == len(expected) and all(f.startswith(e) for f, e in zip(found, expected, strict=True)), found


def test_unknown_ids_are_404(client: httpx.Client) -> None:
    for path in ("/api/deployments/deploy_0123456789abcdef", "/api/deployments/nonsense",
                 "/api/packages/pkg_0123456789abcdef.tar.gz", "/api/packages/../../etc/passwd.tar.gz",
                 "/api/devices/bad%20host!/metrics"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.text)
    response = client.post("/api/deployments/deploy_0123456789abcdef/cancel")
    assert response.status_code == 404


def test_device_that_cannot_be_reached(client: httpx.Client) -> None:
    response = client.get("/api/devices/127.0.0.1:1/metrics")  # nothing listens on port 1
    assert response.status_code == 502
    assert "cannot connect" in problems(response)[0]


def test_discover_checks_its_ranges(client: httpx.Client) -> None:
    response = client.get("/api/devices/discover", params={"cidr": ["10.0.0.0/8"]})
    assert response.status_code == 422
    assert problems(response) == ["cidr: 10.0.0.0/8: wider than a /16; split it into smaller ranges"]
    response = client.get("/api/devices/discover", params={"cidr": ["banana"], "mdns": "false"})
    assert response.status_code == 422
    response = client.get("/api/devices/discover", params={"port": 0})
    assert problems(response) == ["port: input should be greater than or equal to 1"]
    # Nothing to sweep, browse or probe: an empty answer without touching the network.
    response = client.get("/api/devices/discover", params={"sweep": "false", "mdns": "false"})
    assert response.status_code == 200 and response.json() == {"devices": []}


def raw_post(api: RunningApi, head: str, body: Iterator[bytes]) -> tuple[int, dict]:
    """A request over a plain socket: an early answer must not be lost to a reset while sending."""
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST /api/apps/package HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {api.token}\r\n"
                     f"Content-Type: application/json\r\n{head}\r\n".encode())
        for chunk in body:
            sock.sendall(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.partition(b"\r\n\r\n")[2])


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30


def test_request_size_limit(api: RunningApi) -> None:
    limit = 12 * 1024**2
    expected = {"detail": "request body too large", "problems": [f"body: at most {limit} bytes"]}
    # Declared too large: refused before a byte of the body is read (none is sent here).
    assert raw_post(api, f"Content-Length: {limit + 1}\r\n", iter(())) == (413, expected)

    def chunked() -> Iterator[bytes]:  # no length declared: counted as it arrives
        for size in (1024**2,) * 12 + (1,):
            yield f"{size:x}\r\n".encode() + b"#" * size + b"\r\n"
        yield b"0\r\n\r\n"

    assert raw_post(api, "Transfer-Encoding: chunked\r\n", chunked()) == (413, expected)


def test_history_lists_deployments(client: httpx.Client) -> None:
    response = client.get("/api/deployments", params={"limit": 5})
    assert response.status_code == 200 and response.json() == {"deployments": []}
    assert client.get("/api/deployments", params={"limit": 0}).status_code == 422


def test_deployment_from_its_record(api: RunningApi, client: httpx.Client) -> None:
    """One this server did not run (the CLI's, or before a restart): served from the record on disk."""
    record = Deployment(deployment_id="deploy_00112233445566", package_id="pkg_0123456789abcdef", app_name="light",
                        app_version="1.0.0", status="failed", end_time=utc_now(), devices=[
                            DeviceDeployment(device_id="a", status="success", progress=100, stage="done",
                                             message="Application running successfully"),
                            DeviceDeployment(device_id="b", status="error", progress=60, stage="install",
                                             message="Deployment failed: no space left")])
    DeploymentRecords().save(record)
    response = client.get(f"/api/deployments/{record.deployment_id}")
    assert response.status_code == 200
    assert response.json() == record.to_json_dict()
    assert client.get("/api/deployments").json()["deployments"][0]["deploymentId"] == record.deployment_id

    async def events() -> list[dict]:
        url = f"{api.ws_url}/api/deployments/{record.deployment_id}/events"
        async with websockets.connect(url, additional_headers=api.auth) as ws:
            received = [json.loads(m) async for m in ws]
            assert ws.close_code == 1000
            return received

    assert asyncio.run(events()) == [
        {"seq": 0, "deploymentId": record.deployment_id, "deviceId": "a", "stage": "done", "progress": 100,
         "status": "success", "message": "Application running successfully", "kind": "progress"},
        {"seq": 1, "deploymentId": record.deployment_id, "deviceId": "b", "stage": "install", "progress": 60,
         "status": "error", "message": "Deployment failed: no space left", "kind": "progress"},
        {"seq": 2, "deploymentId": record.deployment_id, "status": "failed", "kind": "finished"},
    ]
    assert client.post(f"/api/deployments/{record.deployment_id}/cancel").status_code == 409


def test_a_deployment_in_waves_skips_the_second_when_the_first_fails(api: RunningApi, client: httpx.Client,
                                                                    package: dict) -> None:
    """Nothing listens on ports 1 and 2 of 127.0.0.1: the first wave fails, the second is never tried."""
    response = client.post("/api/deployments", json={"packageId": package["packageId"], "waves": "1,100%",
                                                     "devices": ["127.0.0.1:1", "127.0.0.1:2"]})
    assert response.status_code == 200, response.text
    deployment_id = response.json()["deploymentId"]

    async def events() -> list[dict]:
        url = f"{api.ws_url}/api/deployments/{deployment_id}/events"
        async with websockets.connect(url, additional_headers=api.auth) as ws:
            return [json.loads(m) async for m in ws]

    waves = [(e["index"], e["status"], e["failed"]) for e in asyncio.run(events()) if e["kind"] == "wave"]
    assert waves == [(1, "in-progress", 0), (1, "failed", 1), (2, "skipped", 0)]
    result = client.get(f"/api/deployments/{deployment_id}").json()
    assert [(d["deviceId"], d["status"]) for d in result["devices"]] == [
        ("127.0.0.1:1", "error"), ("127.0.0.1:2", "skipped")]
    assert result["waves"] == [{"index": 1, "devices": ["127.0.0.1:1"], "status": "failed", "failed": 1},
                               {"index": 2, "devices": ["127.0.0.1:2"], "status": "skipped", "failed": 0}]
