"""kuksa-client 0.6 (this venv) and 0.5 (its own venv), sync and aio, against the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from kuksa_client.grpc import Datapoint, VSSClient, VSSClientError
from kuksa_client.grpc.aio import VSSClient as AioVSSClient

from tests.broker.helpers import run_in, venv
from tests.broker.targets import TARGETS, broker_at

SPEED = "Vehicle.Speed"
LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
LUMBAR = "Vehicle.Cabin.Seat.Row1.DriverSide.Backrest.Lumbar.Support"  # float, 0..100


@pytest.fixture(scope="module", params=TARGETS)
def broker(request: pytest.FixtureRequest) -> Iterator[dict]:
    """The broker here, on the oldest runtimes a device gets, and on Python 3.9 and 3.13 devices."""
    with broker_at(request) as info:
        yield info


def test_sync_client_round_trip(broker: dict) -> None:
    with VSSClient("127.0.0.1", broker["port"]) as client:
        info = client.get_server_info()
        assert info.name and info.version
        client.set_current_values({SPEED: Datapoint(88.5)})
        assert client.get_current_values([SPEED])[SPEED].value == 88.5
        client.set_target_values({LOW_BEAM: Datapoint(True)})
        assert client.get_target_values([LOW_BEAM])[LOW_BEAM].value is True
        meta = client.get_metadata([LUMBAR])[LUMBAR]
        assert meta.unit == "percent"
        assert meta.value_restriction.min == 0 and meta.value_restriction.max == 100
        assert client.get_current_values(["Vehicle.VersionVSS.Major"])["Vehicle.VersionVSS.Major"].value == 4
        updates = client.subscribe_current_values([SPEED])
        assert next(updates)[SPEED].value == 88.5  # the initial state comes first
        client.set_current_values({SPEED: Datapoint(90.0)})
        assert next(updates)[SPEED].value == 90.0


def test_sync_client_sees_real_error_codes(broker: dict) -> None:
    with VSSClient("127.0.0.1", broker["port"]) as client:
        with pytest.raises(VSSClientError) as out_of_range:
            client.set_current_values({LUMBAR: Datapoint(150.0)})
        assert out_of_range.value.error["code"] == 3  # INVALID_ARGUMENT via kuksa.val.v2
        assert "min/max" in out_of_range.value.error["message"]
        with pytest.raises(VSSClientError) as unknown:
            client.get_current_values(["Vehicle.DoesNotExist"])
        assert unknown.value.errors[0]["error"]["code"] == 404
        with pytest.raises(VSSClientError) as not_actuator:
            client.set_target_values({SPEED: Datapoint(1.0)})
        assert not_actuator.value.error["code"] == 3


async def test_aio_client_round_trip(broker: dict) -> None:
    async with AioVSSClient("127.0.0.1", broker["port"]) as client:
        assert (await client.get_server_info()).version
        soc = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
        await client.set_current_values({soc: Datapoint(55.5)})
        assert (await client.get_current_values([soc]))[soc].value == 55.5
        await client.set_target_values({LOW_BEAM: Datapoint(False)})
        assert (await client.get_target_values([LOW_BEAM]))[LOW_BEAM].value is False
        assert (await client.get_metadata([SPEED]))[SPEED].unit == "km/h"
        updates = client.subscribe_current_values([SPEED])
        first = await asyncio.wait_for(updates.__anext__(), 10)
        assert SPEED in first
        await client.set_current_values({SPEED: Datapoint(12.0)})
        while (await asyncio.wait_for(updates.__anext__(), 10))[SPEED].value != 12.0:
            pass
        await updates.aclose()


CLIENT_05_SCRIPT = r"""
import asyncio, json, sys
from kuksa_client.grpc import Datapoint, VSSClient, VSSClientError
from kuksa_client.grpc.aio import VSSClient as AioVSSClient
import kuksa_client
port = int(sys.argv[1])
out = {"version": getattr(kuksa_client, "__version__", "")}
with VSSClient("127.0.0.1", port) as c:
    out["server"] = c.get_server_info().version
    c.set_current_values({"Vehicle.Speed": Datapoint(33.0)})
    out["speed"] = c.get_current_values(["Vehicle.Speed"])["Vehicle.Speed"].value
    beam = "Vehicle.Body.Lights.Beam.Low.IsOn"
    c.set_target_values({beam: Datapoint(True)})
    out["target"] = c.get_target_values([beam])[beam].value
    out["unit"] = c.get_metadata(["Vehicle.Speed"])["Vehicle.Speed"].unit
    sub = c.subscribe_current_values(["Vehicle.Speed"])
    out["initial"] = next(sub)["Vehicle.Speed"].value
    try:
        c.set_current_values({"Vehicle.Cabin.Seat.Row1.DriverSide.Backrest.Lumbar.Support": Datapoint(101.0)})
    except VSSClientError as exc:
        out["range_error"] = [exc.error, exc.errors]
async def aio():
    async with AioVSSClient("127.0.0.1", port) as c:
        await c.set_current_values({"Vehicle.Speed": Datapoint(44.0)})
        out["aio_speed"] = (await c.get_current_values(["Vehicle.Speed"]))["Vehicle.Speed"].value
        out["aio_server"] = (await c.get_server_info()).version
        async for update in c.subscribe_current_values(["Vehicle.Speed"]):
            out["aio_initial"] = update["Vehicle.Speed"].value
            break
asyncio.run(aio())
print(json.dumps(out, default=str))
"""


@pytest.mark.slow
def test_kuksa_client_05_series(broker: dict) -> None:
    python = venv("kuksa-client-0.5", ["kuksa-client>=0.5,<0.6"])
    out = run_in(python, CLIENT_05_SCRIPT, str(broker["port"]))
    assert out["speed"] == 33.0 and out["initial"] == 33.0
    assert out["target"] is True and out["unit"] == "km/h"
    assert out["aio_speed"] == 44.0 and out["aio_initial"] == 44.0 and out["aio_server"]
    error, errors = out["range_error"]
    codes = [error.get("code")] + [e["error"]["code"] for e in errors]
    assert 3 in codes or 400 in codes, out["range_error"]
