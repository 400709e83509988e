"""A Velocitas app (velocitas-sdk 0.15.7, its own venv, model generated from VSS 4.0) on our broker."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from kuksa_client.grpc import Datapoint, VSSClient

from tests.broker.helpers import VENVS, VSS_40, broker_process, venv

pytestmark = pytest.mark.slow

APP = r'''
import asyncio, json, os
from velocitas_sdk.vehicle_app import VehicleApp
from vehicle import vehicle


class App(VehicleApp):
    def __init__(self):
        super().__init__()
        self.speeds = []

    async def on_start(self):
        await vehicle.Speed.subscribe(self.on_speed)
        await vehicle.Body.Lights.Beam.Low.IsOn.set(True)  # an actuator target via SetDatapoints
        print(json.dumps({"event": "started"}), flush=True)

    async def on_speed(self, reply):
        self.speeds.append(reply.get(vehicle.Speed).value)
        if self.speeds[-1] >= 100:
            current = (await vehicle.Speed.get()).value
            await self.publish_event("sdv/test/speed", json.dumps({"speed": current}))
            print(json.dumps({"event": "done", "speeds": self.speeds, "get": current}), flush=True)
            os._exit(0)


# As the Velocitas templates do: the SDK's gRPC channel belongs to the default loop.
asyncio.get_event_loop().run_until_complete(App().run())
'''


@pytest.fixture(scope="module")
def velocitas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The SDK venv's python and a folder holding the generated ``vehicle`` package."""
    python = venv("velocitas-0.15.7", ["velocitas-sdk==0.15.7", "velocitas-model-generator==0.9.0"])
    model = VENVS / "velocitas-model-vss-4.0"
    if not (model / "vehicle" / "__init__.py").exists():
        subprocess.run([str(python.parent / "gen-model"), "-N", "vehicle", "-T", str(model), "-l", "python",
                        str(VSS_40)], check=True, capture_output=True, timeout=120)
    return python, model


def _sdk_env(model: Path, broker: dict) -> dict[str, str]:
    """How the device agent points a Velocitas app at its databroker and MQTT broker."""
    return {
        **os.environ,
        "PYTHONPATH": str(model),
        "SDV_MIDDLEWARE_TYPE": "native",
        "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://127.0.0.1:{broker['port']}",
        "SDV_MQTT_ADDRESS": f"mqtt://127.0.0.1:{broker['mqtt_port']}",
    }


def test_velocitas_app_sets_reads_and_is_notified(velocitas: tuple[Path, Path], tmp_path: Path) -> None:
    python, model = velocitas
    script = tmp_path / "app.py"
    script.write_text(APP)
    with broker_process("--vss", str(VSS_40), mqtt=True) as info:
        env = _sdk_env(model, info)
        app = subprocess.Popen([str(python), str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
        try:
            started = app.stdout.readline()
            assert "started" in started, started + app.stderr.read()
            with VSSClient("127.0.0.1", info["port"]) as client:
                beam = "Vehicle.Body.Lights.Beam.Low.IsOn"
                assert client.get_target_values([beam])[beam].value is True
                for speed in (10.0, 50.0, 100.0):
                    client.set_current_values({"Vehicle.Speed": Datapoint(speed)})
                    time.sleep(0.05)
            out, err = app.communicate(timeout=60)
        finally:
            if app.poll() is None:
                app.kill()
                app.communicate()
    done = json.loads(out.strip().splitlines()[-1])
    assert done["event"] == "done", out + err
    assert done["speeds"][-1] == 100.0 and 50.0 in done["speeds"] and done["get"] == 100.0


BENCH_APP = r'''
import asyncio, json, os
from velocitas_sdk.vehicle_app import VehicleApp
from vehicle import vehicle


class App(VehicleApp):
    async def on_start(self):
        # The playground's default app: set the low beam, read it back (bounded here).
        seen = []
        for value in (True, False):
            await vehicle.Body.Lights.Beam.Low.IsOn.set(value)
            for _ in range(200):
                current = (await vehicle.Body.Lights.Beam.Low.IsOn.get()).value
                if current == value:
                    break
                await asyncio.sleep(0.05)
            seen.append(current)
        print(json.dumps({"seen": seen}), flush=True)
        os._exit(0)  # VehicleApp.run never returns


asyncio.get_event_loop().run_until_complete(App().run())
'''


def test_velocitas_set_is_read_back_on_a_bench(velocitas: tuple[Path, Path], tmp_path: Path) -> None:
    """Bench mode: the target the SDK sets (SetDatapoints) becomes the current value it gets."""
    python, model = velocitas
    script = tmp_path / "bench_app.py"
    script.write_text(BENCH_APP)
    with broker_process("--vss", str(VSS_40), mqtt=True) as info:
        env = _sdk_env(model, info)
        proc = subprocess.run([str(python), str(script)], capture_output=True, text=True, env=env, timeout=60)
        with VSSClient("127.0.0.1", info["port"]) as client:
            beam = "Vehicle.Body.Lights.Beam.Low.IsOn"
            assert client.get_current_values([beam])[beam].value is False
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"seen": [True, False]}, proc.stdout + proc.stderr
