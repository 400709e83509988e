"""Bench mode: actuator targets become current values unless a provider claims the actuator,
seen through the real kuksa-client (sync and aio) and kuksa-client's own kuksa.val.v2 stubs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from kuksa.val.v2 import types_pb2 as t2
from kuksa.val.v2 import val_pb2 as v2
from kuksa.val.v2 import val_pb2_grpc as v2_grpc
from kuksa_client.grpc import Datapoint, Field, SubscribeEntry, View, VSSClient
from kuksa_client.grpc.aio import VSSClient as AioVSSClient

from tests.broker.helpers import VSS_40, broker_process, claim_actuation

LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
HIGH_BEAM = "Vehicle.Body.Lights.Beam.High.IsOn"
HAZARD = "Vehicle.Body.Lights.Hazard.IsSignaling"
WIPERS = "Vehicle.Body.Windshield.Front.Wiping.Mode"  # string, allowed values
WAIT = 10.0  # generous: the broker reflects after 50 ms


def eventually(read: Callable[[], Any], expected: Any, timeout: float = WAIT) -> Any:
    """Poll read() until it gives expected or timeout passes; the last value read."""
    deadline = time.monotonic() + timeout
    while (value := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def current(client: VSSClient, path: str) -> Any:
    point = client.get_current_values([path])[path]
    return None if point is None else point.value


def set_and_read(client: VSSClient, path: str, value: bool) -> Any:
    """The current value shortly after setting the target (the broker may not yet have seen the
    provider leave, so the caller retries)."""
    client.set_target_values({path: Datapoint(value)})
    time.sleep(0.2)
    return current(client, path)


@pytest.fixture(scope="module")
def broker() -> dict:
    with broker_process("--vss", str(VSS_40)) as info:
        yield info


def test_sync_client_target_becomes_current(broker: dict) -> None:
    with VSSClient("127.0.0.1", broker["port"]) as client:
        for value in (True, False, True):
            client.set_target_values({LOW_BEAM: Datapoint(value)})  # kuksa.val.v1 Set of actuator_target
            assert eventually(lambda: current(client, LOW_BEAM), value) is value
        client.set_target_values({WIPERS: Datapoint("SLOW")})
        assert eventually(lambda: current(client, WIPERS), "SLOW") == "SLOW"


async def test_aio_client_target_becomes_current(broker: dict) -> None:
    async with AioVSSClient("127.0.0.1", broker["port"]) as client:
        updates = client.subscribe_current_values([HAZARD])
        await anext(updates)  # the initial state: the subscription is in place
        await client.set_target_values({HAZARD: Datapoint(True)})
        reflected = await asyncio.wait_for(anext(updates), WAIT)
        assert reflected[HAZARD].value is True


def test_v2_actuate_without_provider_is_reflected(broker: dict) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{broker['port']}") as channel, \
            VSSClient("127.0.0.1", broker["port"]) as client:
        stub = v2_grpc.VALStub(channel)
        stub.Actuate(v2.ActuateRequest(signal_id=t2.SignalID(path=HIGH_BEAM), value=t2.Value(bool=True)), timeout=10)
        assert eventually(lambda: current(client, HIGH_BEAM), True) is True
        stub.BatchActuate(v2.BatchActuateRequest(actuate_requests=[
            v2.ActuateRequest(signal_id=t2.SignalID(path=HIGH_BEAM), value=t2.Value(bool=False)),
            v2.ActuateRequest(signal_id=t2.SignalID(path=WIPERS), value=t2.Value(string="FAST")),
        ]), timeout=10)
        assert eventually(lambda: current(client, HIGH_BEAM), False) is False
        assert eventually(lambda: current(client, WIPERS), "FAST") == "FAST"


def _not_reflected(client: VSSClient, claimed: str) -> tuple[Any, Any]:
    """Set a new target for claimed, then an unclaimed actuator's: reflections fall due in order,
    so once the second is reflected the first would have been too. claimed's current value before
    and after."""
    before = current(client, claimed)
    value = not before
    client.set_target_values({claimed: Datapoint(value)})
    marker = not current(client, HAZARD)
    client.set_target_values({HAZARD: Datapoint(marker)})
    assert eventually(lambda: current(client, HAZARD), marker) is marker
    assert client.get_target_values([claimed])[claimed].value is value  # the target itself was taken
    return before, current(client, claimed)


def test_actuator_claimed_by_a_kuksa_client_provider_is_not_reflected(broker: dict) -> None:
    """kuksa-client's subscribe_target_values claims actuation over kuksa.val.v2 OpenProviderStream."""
    with VSSClient("127.0.0.1", broker["port"]) as provider, VSSClient("127.0.0.1", broker["port"]) as client:
        requests = provider.subscribe_target_values([LOW_BEAM], timeout=30)
        with grpc.insecure_channel(f"127.0.0.1:{broker['port']}") as channel:
            stub = v2_grpc.VALStub(channel)
            actuate = v2.ActuateRequest(signal_id=t2.SignalID(path=LOW_BEAM), value=t2.Value(bool=False))
            deadline = time.monotonic() + WAIT  # the claim is made when the stream starts
            received: dict[str, Any] = {}

            def take() -> None:
                received.update(next(requests))

            reader = threading.Thread(target=take, daemon=True)
            reader.start()
            while reader.is_alive() and time.monotonic() < deadline:
                stub.Actuate(actuate, timeout=10)  # goes to whoever claimed it, once someone has
                reader.join(0.2)
            assert received[LOW_BEAM].value is False
        before, after = _not_reflected(client, LOW_BEAM)
        assert after == before


def test_actuator_claimed_over_v2_provider_stream_is_not_reflected(broker: dict) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{broker['port']}") as channel, \
            VSSClient("127.0.0.1", broker["port"]) as client:
        stop = threading.Event()
        stream = claim_actuation(v2_grpc.VALStub(channel), HIGH_BEAM, stop)
        try:
            before, after = _not_reflected(client, HIGH_BEAM)
            assert after == before
        finally:
            stop.set()
            stream.cancel()


def test_v1_target_subscriber_claims_the_actuator(broker: dict) -> None:
    """An older provider waits for targets with a kuksa.val.v1 subscription to the target value."""
    path = "Vehicle.Body.Trunk.Rear.IsOpen"
    with VSSClient("127.0.0.1", broker["port"]) as client:
        with VSSClient("127.0.0.1", broker["port"]) as provider:
            targets = provider.subscribe(
                entries=[SubscribeEntry(path, View.TARGET_VALUE, (Field.ACTUATOR_TARGET,))], timeout=30)
            next(targets)  # the initial state: the subscription is in place
            before, after = _not_reflected(client, path)
            assert after == before is None
            assert next(targets)[0].entry.actuator_target.value is True
        # The provider's channel is closed, its subscription with it: bench mode again.
        assert eventually(lambda: set_and_read(client, path, False), False) is False


def test_no_mock_actuators_turns_bench_mode_off() -> None:
    with broker_process("--vss", str(VSS_40), "--no-mock-actuators") as info, \
            grpc.insecure_channel(f"127.0.0.1:{info['port']}") as channel, \
            VSSClient("127.0.0.1", info["port"]) as client:
        assert "bench mode" not in info["line"]
        with pytest.raises(grpc.RpcError) as refused:  # the real databroker's answer without a provider
            v2_grpc.VALStub(channel).Actuate(
                v2.ActuateRequest(signal_id=t2.SignalID(path=LOW_BEAM), value=t2.Value(bool=True)), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        client.set_target_values({LOW_BEAM: Datapoint(True)})
        assert client.get_target_values([LOW_BEAM])[LOW_BEAM].value is True
        time.sleep(1.0)  # twenty times the default delay
        assert current(client, LOW_BEAM) is None


def test_signals_file_seeds_current_values(tmp_path: Path) -> None:
    seeds = {"Vehicle.Speed": 42.5, "Vehicle.Cabin.Door.Row1.DriverSide.IsOpen": True,
             "Vehicle.Powertrain.Transmission.CurrentGear": 3, "Vehicle.Body.Windshield.Front.Wiping.Mode": "OFF"}
    signals = tmp_path / "signals.json"
    signals.write_text(json.dumps(seeds))
    with broker_process("--vss", str(VSS_40), "--signals", str(signals), "--mock-delay", "0") as info, \
            VSSClient("127.0.0.1", info["port"]) as client:
        read = client.get_current_values(list(seeds))
        assert {path: point.value for path, point in read.items()} == seeds
        client.set_target_values({LOW_BEAM: Datapoint(True)})
        assert eventually(lambda: current(client, LOW_BEAM), True) is True


def test_bad_signals_file_is_refused_one_line_per_problem(tmp_path: Path) -> None:
    signals = tmp_path / "signals.json"
    signals.write_text(json.dumps({"Vehicle.Nope": 1, "Vehicle.Speed": "fast", "Vehicle.Cabin.HVAC.Station.Row1."
                                   "Driver.FanSpeed": 150}))
    proc = subprocess.run([sys.executable, "-m", "sdv_studio", "broker", "--no-mqtt", "--port", "0", "--vss",
                           str(VSS_40), "--signals", str(signals)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("--signals: Vehicle.") for line in lines), proc.stderr
    assert "no such signal" in lines[0] and "not a float" in lines[1] and "refused" in lines[2]


def test_help_says_what_bench_mode_does_and_bad_delays_are_refused() -> None:
    help_text = subprocess.run([sys.executable, "-m", "sdv_studio", "broker", "--help"], capture_output=True,
                               text=True, timeout=60).stdout
    assert "bench mode" in help_text and "--no-mock-actuators" in help_text and "--mock-delay" in help_text
    assert "--signals" in help_text
    proc = subprocess.run([sys.executable, "-m", "sdv_studio", "broker", "--mock-delay", "-5"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip() == "--mock-delay: must be 0 or more milliseconds, got -5"
