"""GET /api/devices/{id}/metrics and WS /api/devices/{id}/signals against This computer and a real
databroker (nothing leaves 127.0.0.1); the rig tests check them on devices."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from kuksa_client.grpc import Datapoint, VSSClient

from tests.api.server import RunningApi
from tests.broker.helpers import broker_process

SPEED = "Vehicle.Speed"


@pytest.fixture
def client(api: RunningApi) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


def test_metrics_of_this_computer_carry_the_guides_fields(client: httpx.Client, local_target_home: Path) -> None:
    response = client.get("/api/devices/local/metrics", params={"since": 0})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["deviceId"] == "local" and body["apps"] == [] and body["history"] == []
    assert body["cpu_usage"] == body["cpu"]["percent"] and body["memory_usage"] == body["memory"]["percent"]
    assert body["interval"] is None and body["disk"]["total"] > 0  # nothing runs: no sampler


def test_metrics_since_must_be_a_time(client: httpx.Client) -> None:
    response = client.get("/api/devices/local/metrics", params={"since": "yesterday"})
    assert response.status_code == 422 and response.json()["problems"][0].startswith("since:")


def test_signals_over_plain_http_say_it_is_a_websocket(client: httpx.Client) -> None:
    response = client.get("/api/devices/local/signals", params={"path": SPEED})
    assert response.status_code == 426 and response.headers["upgrade"] == "websocket"
    bad = client.get("/api/devices/local/signals", params={"path": ["Speed", SPEED], "broker": "nohost"})
    assert bad.status_code == 422
    assert bad.json()["problems"] == ["path: 'Speed': expected a VSS path such as Vehicle.Speed",
                                      "broker: 'nohost': expected HOST:PORT"]
    assert client.get("/api/devices/local/signals").json()["problems"] == ["path: name at least one signal (or app)"]


def _handshake(api: RunningApi, query: str, headers: dict[str, str]) -> int:
    async def go() -> int:
        try:
            async with websockets.connect(f"{api.ws_url}/api/devices/{query}", additional_headers=headers,
                                          open_timeout=10):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    return asyncio.run(go())


def test_signals_handshake_refusals(api: RunningApi) -> None:
    assert _handshake(api, f"local/signals?path={SPEED}", {}) == 401
    assert _handshake(api, "local/signals?path=Speed", api.auth) == 422
    assert _handshake(api, f"bad%20host!/signals?path={SPEED}", api.auth) == 404
    assert _handshake(api, f"local/signals?path={SPEED}&colour=red", api.auth) == 422


async def _messages(api: RunningApi, query: str, port: int) -> list[dict[str, Any]]:
    """Connect as a browser does (the token as subprotocols); read until a set value arrives."""
    received: list[dict[str, Any]] = []
    url = f"{api.ws_url}/api/devices/local/signals?{query}"
    async with websockets.connect(url, subprotocols=["bearer", api.token], open_timeout=20) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "bearer"
        async with asyncio.timeout(60):
            async for message in ws:
                received.append(json.loads(message))
                if received[-1]["kind"] == "signal" and received[-1]["value"] is None:
                    await asyncio.to_thread(_set_speed, port, 12.5)
                if received[-1].get("value") == 12.5:
                    return received
    raise AssertionError(f"the stream ended: {received}")


def _set_speed(port: int, speed: float) -> None:
    with VSSClient("127.0.0.1", port) as client:
        client.set_current_values({SPEED: Datapoint(speed)})


def test_signals_stream_over_the_websocket(api: RunningApi, local_target_home: Path) -> None:
    with broker_process() as broker:
        port = broker["port"]
        messages = asyncio.run(_messages(api, f"path={SPEED}&path=Vehicle.Nope&broker=127.0.0.1:{port}", port))
    assert [m["seq"] for m in messages] == list(range(len(messages)))
    kinds = [m["kind"] for m in messages]
    assert kinds[:2] == ["link-up", "subscribed"] and kinds[-1] == "signal", kinds
    assert messages[1]["signals"] == [SPEED] and messages[1]["unknown"] == ["Vehicle.Nope"]
    last = messages[-1]
    assert last["deviceId"] == "local" and last["path"] == SPEED and last["value"] == 12.5
    assert last["timestamp"] <= last["received"]


def test_openapi_documents_both(client: httpx.Client) -> None:
    schema = client.get("/api/openapi.json").json()
    signals = schema["paths"]["/api/devices/{device_id}/signals"]["get"]
    assert "WebSocket" in signals["summary"] and "426" in signals["responses"]
    assert {p["name"] for p in signals["parameters"]} == {"device_id", "path", "app", "broker"}
    app = schema["components"]["schemas"]["AppMetrics"]["properties"]
    assert {"cpu_usage", "memory_usage", "signal_updates", "errors", "kuksa_latency", "restarts", "uptime",
            "status"} <= set(app)
    metrics = schema["paths"]["/api/devices/{device_id}/metrics"]["get"]
    assert metrics["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/DeviceMetrics")
