"""Core's failures are answered by one handler: 404/422 for invalid input, 502/503 for a failure, in the
body every error has. Nothing here leaves 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sdv_studio.api.app import create_app
from sdv_studio.api.errors import field_named
from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.deploy.targets import UnknownDevice, resolve_devices
from sdv_studio.core.errors import InvalidInput, NotFound, OperationFailed, Problems, Unavailable
from tests.api.server import TOKEN, RunningApi

LIGHT = (Path(__file__).resolve().parents[1] / "data" / "apps" / "light_counter.py").read_text()
KINDS: dict[str, Problems] = {
    "invalid": InvalidInput(["name: must be lowercase"]),
    "not-found": NotFound(["packageId: no package 'pkg_x'"]),
    "failed": OperationFailed(["d1: cannot connect", "d2: cannot connect"]),
    "unavailable": Unavailable(["devices.json: cannot be read"]),
}


@pytest.fixture
def app(api_home: Path) -> FastAPI:
    """The real app (its handlers, token check, middleware) with one route more that raises each kind."""
    app = create_app(ApiSettings(token=TOKEN))

    async def fail(kind: str) -> None:
        raise KINDS[kind]

    app.add_api_route("/test/fail/{kind}", fail)
    return app


@pytest.mark.parametrize(("kind", "status", "detail"), [
    ("invalid", 422, "invalid request"), ("not-found", 404, "not found"),
    ("failed", 502, "the operation failed"), ("unavailable", 503, "unavailable"),
])
async def test_each_kind_has_its_status_and_the_error_body(app: FastAPI, kind: str, status: int, detail: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        response = await client.get(f"/test/fail/{kind}")
    assert response.status_code == status
    assert response.json() == {"detail": detail, "problems": KINDS[kind].problems}


def test_a_request_names_its_field_where_the_command_line_names_an_option(api_home: Path) -> None:
    with pytest.raises(UnknownDevice) as raised, field_named("--device", "devices"):
        resolve_devices(["bad host!", "ok-host", "ok-host"])
    assert [line.split(": ")[0] for line in raised.value.problems] == ["devices"]
    assert raised.value.problems[0].startswith("devices: bad host!: ")
    with pytest.raises(UnknownDevice) as raised, field_named("--device", "devices"):
        resolve_devices(["ok-host", "ok-host"])
    assert raised.value.problems == ["devices: ok-host: the same device as ok-host"]


def test_a_package_that_cannot_be_built_is_a_502(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: the requirement is in no cache nor index
    with api.client() as client:
        response = client.post("/api/apps/package", json={
            "name": "unbuildable", "code": LIGHT, "platforms": ["x86_64"], "pythonVersion": "3.11",
            "requirements": ["sdv-studio-no-such-distribution==1.0"]})
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["detail"] == "the package could not be built"
    assert body["problems"] and all(line.startswith("requirements: ") for line in body["problems"]), body

