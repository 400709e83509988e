"""Requests without devices: bodies checked with `field: message` lines, unknown ids, size limits,
a package built and downloaded. Nothing here leaves 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("body", "expected"), [
    ({"code": "print(1)"}, ["name: is required"]),
    ({"name": "Bad Name", "code": "print(1)"}, ["name: must be lowercase letters, digits and hyphens"]),
    ({"name": "ok", "code": "def f(:\n"}, ["main.py:1:7: SyntaxError: invalid syntax"]),
    ({"name": "ok", "code": "print(1)", "colour": "red"}, ["colour: is not a known field"]),
    ({"name": "ok", "code": "print(1)", "version": "1.0"}, ["version: must be a semantic version x.y.z, e.g. 1.0.0"]),
    ({"name": "ok", "code": "print(1)", "runtimeMode": "vm"}, ["runtimeMode: input should be 'docker' or 'native'"]),
    ({"name": "ok", "code": "print(1)", "deployment": {"resourceLimits": {"memory": "lots"}}},
     ["deployment.resourceLimits.memory: must be a size like 512MB, 512M, 1GB or 1G"]),
], ids=["missing", "name", "syntax", "unknown-field", "version", "runtime", "memory"])
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
    assert again.status_code == 201 and again.json()["packageId"] == package["packageId"]
    assert again.headers["location"] == package["downloadUrl"]


@pytest.mark.parametrize(("body", "expected"), [
    ({"packageId": "pkg_x", "devices": ["d1"]}, "packageId: string should match pattern"),
    ({"packageId": "pkg_0123456789abcdef", "devices": []}, "devices: list should have at least 1 item"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a", "a"]}, "devices: value error, each device may be named"),
    ({"packageId": "pkg_0123456789abcdef", "devices": ["a"], "deploymentMode": "fast"},
     "deploymentMode: input should be 'hot-swap' or 'standard'"),
    ({"devices": ["a"]}, "packageId: is required"),
], ids=["package-id", "no-devices", "twice", "mode", "missing"])
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


def test_request_size_limit(api: RunningApi, client: httpx.Client) -> None:
    limit = 12 * 1024**2
    big = b'{"name": "x", "code": "' + b"#" * limit + b'"}'
    response = client.post("/api/apps/package", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert problems(response) == [f"body: at most {limit} bytes"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"name": "x", "code": "'
        for _ in range(13):
            yield b"#" * 1024**2
        yield b'"}'

    response = client.post("/api/apps/package", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert problems(response) == [f"body: at most {limit} bytes"]


def test_history_lists_deployments(client: httpx.Client) -> None:
    response = client.get("/api/deployments", params={"limit": 5})
    assert response.status_code == 200 and response.json() == {"deployments": []}
    assert client.get("/api/deployments", params={"limit": 0}).status_code == 422
