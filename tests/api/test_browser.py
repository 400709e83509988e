"""What a web page needs, over real HTTP: CORS for the origins the server was started with (preflights
without the token, requests still with it), and the token as WebSocket subprotocols."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from sdv_studio.api.auth import subprotocol_token
from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment, DeviceDeployment, utc_now
from tests.api.server import TOKEN, RunningApi, running_api

PAGE = "https://digital.auto"
PREFLIGHT = {"Origin": PAGE, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type"}


@pytest.fixture(scope="module")
def cors_api(api_home: Path) -> Iterator[RunningApi]:
    settings = ApiSettings(token=TOKEN, trust=HostKeyTrust(KnownHosts(api_home / "known_hosts")),
                           cors_origins=(PAGE, "http://127.0.0.1:3000"))
    with running_api(settings) as running:
        yield running


@pytest.fixture(scope="module")
def record(api_home: Path) -> Deployment:
    deployment = Deployment(deployment_id="deploy_0a0b0c0d0e0f0a0b", package_id="pkg_0123456789abcdef",
                            app_name="light", app_version="1.0.0", status="completed", end_time=utc_now(),
                            devices=[DeviceDeployment(device_id="a", status="success", progress=100, stage="done",
                                                      message="Application running successfully")])
    DeploymentRecords().save(deployment)
    return deployment


def test_preflight_needs_no_token(cors_api: RunningApi) -> None:
    with httpx.Client(base_url=cors_api.url, timeout=10) as client:
        for path in ("/api/deployments", "/api/apps/package", "/api/deployments/deploy_0a0b0c0d0e0f0a0b"):
            response = client.options(path, headers=PREFLIGHT)
            assert response.status_code == 200, (path, response.text)
            assert response.headers["access-control-allow-origin"] == PAGE
            assert {"authorization", "content-type"} <= {
                h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
            assert "POST" in response.headers["access-control-allow-methods"]
        # Another page's preflight is refused, and says nothing it may use.
        other = client.options("/api/deployments", headers={**PREFLIGHT, "Origin": "https://evil.example"})
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


def test_requests_from_the_page_still_need_the_token(cors_api: RunningApi, record: Deployment) -> None:
    path = f"/api/deployments/{record.deployment_id}"
    with httpx.Client(base_url=cors_api.url, timeout=10, headers={"Origin": PAGE}) as client:
        denied = client.get(path)
        assert denied.status_code == 401
        assert denied.headers["access-control-allow-origin"] == PAGE  # so the page can read why
        denied = client.get(path, headers={"Authorization": "Bearer wrong-token"})
        assert denied.status_code == 401
        allowed = client.get(path, headers=cors_api.auth)
        assert allowed.status_code == 200 and allowed.json() == record.to_json_dict()
        assert allowed.headers["access-control-allow-origin"] == PAGE
        created = client.post("/api/deployments", headers=cors_api.auth, json={"packageId": "pkg_" + "0" * 16,
                                                                               "devices": ["local"]})
        assert created.status_code == 404
        assert "location" in created.headers["access-control-expose-headers"].lower()
        other = client.get(path, headers={**cors_api.auth, "Origin": "https://evil.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_no_cors_unless_asked(api: RunningApi) -> None:
    with httpx.Client(base_url=api.url, timeout=10) as client:
        response = client.options("/api/deployments", headers=PREFLIGHT)
        assert response.status_code == 401  # without --cors-origin an OPTIONS is a request like any other
        assert "access-control-allow-origin" not in response.headers
        response = client.get("/api/deployments", headers={**api.auth, "Origin": PAGE})
        assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


async def _handshake(api: RunningApi, deployment_id: str, subprotocols: list[str]) -> tuple[int, str | None, list]:
    """(status, chosen subprotocol, messages) of a WebSocket with no Authorization header, as a browser's."""
    url = f"{api.ws_url}/api/deployments/{deployment_id}/events"
    try:
        async with websockets.connect(url, subprotocols=[Subprotocol(p) for p in subprotocols],
                                      open_timeout=10) as ws:
            return 101, ws.subprotocol, [json.loads(m) async for m in ws]
    except websockets.InvalidStatus as exc:
        return exc.response.status_code, None, []


def test_websocket_token_as_subprotocol(cors_api: RunningApi, record: Deployment) -> None:
    status, chosen, messages = asyncio.run(_handshake(cors_api, record.deployment_id, ["bearer", TOKEN]))
    assert (status, chosen) == (101, "bearer")  # the token itself is never echoed
    assert [m["kind"] for m in messages] == ["progress", "finished"]
    # Past auth to the route's own answer.
    assert asyncio.run(_handshake(cors_api, "deploy_0123456789abcdef", ["bearer", TOKEN]))[0] == 404


@pytest.mark.parametrize("offered", [["bearer", "wrong-token"], ["bearer"], [TOKEN], [TOKEN, "bearer"],
                                     ["chat", "bearer", TOKEN], ["bearer", TOKEN.upper()]],
                         ids=["wrong", "no-token", "token-only", "reversed", "not-first", "case"])
def test_websocket_subprotocol_needs_the_right_token(api: RunningApi, record: Deployment, offered: list[str]) -> None:
    assert asyncio.run(_handshake(api, record.deployment_id, offered))[0] == 401


def test_subprotocol_token() -> None:
    assert subprotocol_token(["bearer", "abc"], "abc") == ["bearer"]
    assert subprotocol_token(["bearer", "abc", "chat"], "abc") == ["bearer", "chat"]
    assert subprotocol_token(["bearer", "abcd"], "abc") is None
    assert subprotocol_token(["Bearer", "abc"], "abc") is None
    assert subprotocol_token([], "abc") is None
