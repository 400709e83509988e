"""The fallback broker's bundle for Python 3.8 and 3.9 devices, run by a real Python 3.8 or 3.9.

Its venv is made as the device agent makes it (``sdvagent.venvs.create``, offline from the bundle's
wheels), then the broker serves KUKSA and, with amqtt 0.10, MQTT. Skipped where this machine has no
such interpreter; the bullseye rig device (tests/core/deploy/test_foreign_rig.py) covers 3.9 too.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from kuksa_client.grpc import Datapoint, VSSClient

from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
from tests.broker.helpers import REPO, VSS_40, free_port, mqtt_round_trip

pytestmark = pytest.mark.slow

AGENT = REPO / "sdv_studio" / "agent"


def _interpreter(version: str) -> str | None:
    """A working ``python3.X`` on PATH or under pyenv (whose shims may name one that does not run)."""
    candidates = [shutil.which(f"python{version}"),
                  *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))]
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def _device_venv(python: str, version: str, folder: Path) -> Path:
    """The broker's venv as the agent makes it on a device with this Python."""
    bundle = broker_bundle(version, "x86_64")
    wheels = folder / "broker-wheels"
    wheels.mkdir()
    for name, data in bundle.files.items():
        (wheels / name).write_bytes(data)
    venv = folder / bundle.venv_name
    create = (f"import sys; sys.path.insert(0, {str(AGENT)!r}); from sdvagent import venvs; "
              f"venvs.create({str(venv)!r}, [{str(wheels)!r}], [{bundle.requirement!r}])")
    subprocess.run([python, "-c", create], check=True, capture_output=True, timeout=120)
    return venv / "bin" / "python"


@contextmanager
def _broker(python: Path, folder: Path) -> Iterator[tuple[int, int]]:
    """The venv's broker on free ports: (gRPC port, MQTT port)."""
    port, mqtt_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's copy, not this checkout
    argv = [str(python), "-m", "sdv_studio.broker", "--port", str(port), "--mqtt-port", str(mqtt_port),
            "--vss", str(VSS_40)]
    proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        assert "listening" in line and "(amqtt)" in line, line + proc.stdout.read()
        yield port, mqtt_port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.mark.parametrize("version", ["3.8", "3.9"])
def test_the_bundle_serves_kuksa_and_mqtt_on_a_real_older_python(version: str, tmp_path: Path) -> None:
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    with _broker(_device_venv(python, version, tmp_path), tmp_path) as (port, mqtt_port):
        assert mqtt_round_trip(mqtt_port) == b'{"speed": 42}'
        with VSSClient("127.0.0.1", port) as client:
            client.set_current_values({"Vehicle.Speed": Datapoint(42.0)})
            assert client.get_current_values(["Vehicle.Speed"])["Vehicle.Speed"].value == 42.0
