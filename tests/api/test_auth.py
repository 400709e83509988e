"""A bearer token on every request: routes, unknown paths, the OpenAPI document and the WebSocket."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import httpx
import pytest
import websockets

from sdv_studio.api.auth import bearer_matches, load_or_create_token
from tests.api.server import TOKEN, RunningApi

PATHS = [
    ("GET", "/api/openapi.json"),
    ("GET", "/api/deployments"),
    ("GET", "/api/deployments/deploy_0123456789abcdef"),
    ("POST", "/api/deployments"),
    ("POST", "/api/apps/package"),
    ("GET", "/api/packages/pkg_0123456789abcdef.tar.gz"),
    ("GET", "/api/devices/discover"),
    ("GET", "/api/devices/d1/metrics"),
    ("GET", "/no/such/path"),
]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic dGVzdDp0ZXN0"},
    {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TOKEN} x"},
], ids=["none", "wrong", "basic", "empty", "suffixed"])
def test_every_request_needs_the_token(api: RunningApi, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=api.url, timeout=10) as client:
        for method, path in PATHS:
            # A body that would be valid must not get past the check either.
            response = client.request(method, path, headers=headers, json={"packageId": "pkg_0123456789abcdef",
                                                                            "devices": ["local"]})
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["detail"] == "missing or wrong bearer token"


def test_the_right_token_passes(api: RunningApi) -> None:
    with api.client() as client:
        assert client.get("/api/openapi.json").status_code == 200
        assert client.get("/no/such/path").status_code == 404
        # The scheme name is case-insensitive (RFC 7235), the token is not.
        assert client.get("/api/deployments", headers={"Authorization": f"bearer {api.token}"}).status_code == 200
        wrong_case = {"Authorization": f"Bearer {api.token.upper()}"}
        assert client.get("/api/deployments", headers=wrong_case).status_code == 401


def test_websocket_handshake_needs_the_token(api: RunningApi) -> None:
    url = f"{api.ws_url}/api/deployments/deploy_0123456789abcdef/events"

    async def handshake(headers: dict[str, str]) -> int:
        try:
            async with websockets.connect(url, additional_headers=headers, open_timeout=10):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(handshake({})) == 401
    assert asyncio.run(handshake({"Authorization": "Bearer nope"})) == 401
    # With the token the handshake gets past auth, to the "no such deployment" answer.
    assert asyncio.run(handshake(api.auth)) == 404


def test_openapi_declares_the_bearer_scheme(api: RunningApi) -> None:
    with api.client() as client:
        schema = client.get("/api/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert schema["security"] == [{"bearer": []}]
    assert {"/api/devices/discover", "/api/apps/package", "/api/deployments", "/api/deployments/{deployment_id}",
            "/api/devices/{device_id}/metrics", "/api/packages/{package_id}.tar.gz"} <= set(schema["paths"])


def test_token_is_generated_once_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "config" / "api-token"
    token = load_or_create_token(path)
    assert len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(path) == token  # kept, not regenerated
    os.chmod(path, 0o644)
    assert load_or_create_token(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a loosened file is tightened again
    path.write_text("\n")
    assert load_or_create_token(path) != token  # an empty file is no token


def test_bearer_comparison() -> None:
    assert bearer_matches(b"Bearer abc", "abc")
    assert not bearer_matches(b"Bearer abcd", "abc")
    assert not bearer_matches(b"Token abc", "abc")
    assert not bearer_matches(None, "abc")
    assert not bearer_matches("Bearer é".encode("latin-1"), "abc")
