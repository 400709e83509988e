"""Damaged files in the SDV Studio home and hostile values get clear 4xx/503 answers, never a 500.
Nothing here leaves 127.0.0.1: the hosts named are refused before any name is resolved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sdv_studio.core.deploy.records import DeploymentRecords
from tests.api.server import RunningApi

LIGHT = (Path(__file__).resolve().parents[1] / "data" / "apps" / "light_counter.py").read_text()


@pytest.fixture(scope="module")
def client(api: RunningApi) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


@pytest.fixture(scope="module")
def package_id(client: httpx.Client) -> str:
    built = client.post("/api/apps/package", json={"name": "damaged-state", "code": LIGHT, "platforms": ["x86_64"]})
    assert built.status_code == 200, built.text
    return str(built.json()["packageId"])


@pytest.mark.parametrize("devices", ["5", "null", '{"a": 1}', '"text"'])
def test_an_inventory_whose_devices_are_not_a_list_is_reported(client: httpx.Client, api_home: Path,
                                                                package_id: str, devices: str) -> None:
    inventory = api_home / "data" / "devices.json"
    inventory.write_text(f'{{"devices": {devices}}}')
    try:
        answer = client.post("/api/deployments", json={"packageId": package_id, "devices": ["bench-1"]})
        assert answer.status_code == 503, answer.text
        assert "devices.json" in answer.json()["problems"][0]
    finally:
        inventory.unlink()


def test_an_unreadable_record_is_skipped_in_the_list_and_not_found_alone(client: httpx.Client) -> None:
    records = DeploymentRecords()
    damaged = records.folder / "deploy_0123456789ab.json"
    damaged.mkdir()  # a folder where a record should be: reading it raises IsADirectoryError
    (records.folder / "deploy_0123456789ac.json").write_bytes(b"\xff\xfe not json")
    try:
        assert client.get("/api/deployments").status_code == 200
        for deployment_id in ("deploy_0123456789ab", "deploy_0123456789ac"):
            assert client.get(f"/api/deployments/{deployment_id}").status_code == 404
            assert client.post(f"/api/deployments/{deployment_id}/cancel").status_code == 404
    finally:
        damaged.rmdir()
        (records.folder / "deploy_0123456789ac.json").unlink()


@pytest.mark.parametrize("host", ["a" * 64, f"{'b' * 64}.example", "x." * 130 + "example"])
def test_a_host_name_no_resolver_accepts_is_invalid_input(client: httpx.Client, package_id: str, host: str) -> None:
    answer = client.post("/api/deployments", json={"packageId": package_id, "devices": [host]})
    assert answer.status_code == 422, answer.text
    assert any(line.startswith("devices: ") for line in answer.json()["problems"]), answer.text
    metrics = client.get(f"/api/devices/{host}/metrics")
    assert metrics.status_code in (404, 422), metrics.text

