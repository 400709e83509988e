"""Apps run by the launcher present the token and CA the deployment gave them (KUKSA_TOKEN,
KUKSA_CA_FILE) to a real broker, with code that names neither: kuksa-client as its documentation
writes it, and the Velocitas SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sdv_studio import shipped
from sdv_studio.core.deploy.security.tokens import SigningKey, mint, workstation_key
from sdv_studio.core.packaging.template import LAUNCHER
from tests.broker.helpers import VSS_40, broker_process, tls_files
from tests.broker.test_velocitas import velocitas  # noqa: F401  (the SDK venv fixture)

LAUNCHER_PATH = shipped.templates_dir() / LAUNCHER
KUKSA_APP = """\
import os
from kuksa_client.grpc import Datapoint, VSSClient, VSSClientError

with VSSClient("127.0.0.1", int(os.environ["BROKER_PORT"])) as client:
    for path, value in (("Vehicle.Speed", 12.5), ("Vehicle.Body.Horn.IsActive", True)):
        try:
            client.set_current_values({path: Datapoint(value)})
            print(path, "accepted", flush=True)
        except VSSClientError as exc:
            print(path, "refused", exc.error["reason"], flush=True)
"""
VELOCITAS_APP = """\
import asyncio, os
from velocitas_sdk.vehicle_app import VehicleApp
from vehicle import vehicle


class App(VehicleApp):
    async def on_start(self):
        for point in (vehicle.Body.Lights.Beam.Low.IsOn, vehicle.Body.Horn.IsActive):
            try:
                await point.set(True)
                print(point.get_path(), "accepted", flush=True)
            except Exception as exc:
                print(point.get_path(), "refused", type(exc).__name__, exc, flush=True)
        os._exit(0)


asyncio.get_event_loop().run_until_complete(App().run())
"""


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return workstation_key(tmp_path_factory.mktemp("key") / "key.pem")


def _launch(python: str, app: Path, env: dict[str, str]) -> str:
    done = subprocess.run([python, str(LAUNCHER_PATH), str(app)], capture_output=True, text=True, timeout=90,
                          env={**os.environ, "SDV_HEALTH_PORT": "0", **env}, check=False)
    return done.stdout + done.stderr


def test_a_kuksa_client_app_presents_its_token_and_is_held_to_its_scope(key: SigningKey, tmp_path: Path) -> None:
    public = tmp_path / "jwt.pub.pem"
    public.write_bytes(key.public_pem)
    app = tmp_path / "main.py"
    app.write_text(KUKSA_APP)
    with broker_process("--vss", str(VSS_40), "--jwt-public-key", str(public)) as broker:
        env = {"BROKER_PORT": str(broker["port"]), "KUKSA_TOKEN": mint(key, "app", "provide:Vehicle.Speed")}
        out = _launch(sys.executable, app, env)
        assert "Vehicle.Speed accepted" in out and "Vehicle.Body.Horn.IsActive refused permission denied" in out, out
        without = _launch(sys.executable, app, {"BROKER_PORT": str(broker["port"])})
        assert "Vehicle.Speed refused unauthenticated" in without, without


def test_a_kuksa_client_app_reaches_a_tls_broker_with_the_ca_it_was_given(key: SigningKey, tmp_path: Path) -> None:
    cert, private = tls_files(tmp_path)
    app = tmp_path / "main.py"
    app.write_text(KUKSA_APP)
    with broker_process("--vss", str(VSS_40), "--tls-cert", str(cert), "--tls-private-key", str(private)) as broker:
        env = {"BROKER_PORT": str(broker["port"]), "KUKSA_CA_FILE": str(cert)}
        out = _launch(sys.executable, app, env)
        assert "Vehicle.Speed accepted" in out, out
        assert "Vehicle.Speed accepted" not in _launch(sys.executable, app, {"BROKER_PORT": str(broker["port"])})


@pytest.mark.slow
def test_a_velocitas_app_sends_its_token_over_tls(
    velocitas: tuple[Path, Path], key: SigningKey, tmp_path: Path  # noqa: F811
) -> None:
    python, model = velocitas
    cert, private = tls_files(tmp_path)
    public = tmp_path / "jwt.pub.pem"
    public.write_bytes(key.public_pem)
    app = tmp_path / "main.py"
    app.write_text(VELOCITAS_APP)
    with broker_process("--vss", str(VSS_40), "--tls-cert", str(cert), "--tls-private-key", str(private),
                        "--jwt-public-key", str(public), mqtt=True) as broker:
        env = {"PYTHONPATH": str(model), "SDV_MIDDLEWARE_TYPE": "native",
               "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://127.0.0.1:{broker['port']}",
               "SDV_MQTT_ADDRESS": f"mqtt://127.0.0.1:{broker['mqtt_port']}", "KUKSA_CA_FILE": str(cert),
               "KUKSA_TOKEN": mint(key, "app", "actuate:Vehicle.Body.Lights.Beam.Low.IsOn")}
        out = _launch(str(python), app, env)
    assert "Vehicle.Body.Lights.Beam.Low.IsOn accepted" in out, out
    assert "Vehicle.Body.Horn.IsActive refused" in out, out
