"""The playground's default app and a kuksa-client app, installed from their packages into fresh
venvs with ``pip --no-index`` (offline), import and start against the embedded databroker."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio.agent.sdvagent import venvs
from sdv_studio.core.packaging import BuildOptions, PackageStore, build_package

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"
ARCH = platform.machine()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(ARCH not in ("x86_64", "aarch64"), reason="manylinux arch")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The embedded databroker (gRPC + MQTT) on free loopback ports."""
    grpc_port, mqtt_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sdv_studio", "broker", "--port", str(grpc_port),
                                 "--mqtt-port", str(mqtt_port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "listening" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "broker did not start"
            time.sleep(0.2)
        yield {"KUKSA_ENDPOINT": f"127.0.0.1:{grpc_port}",
               "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://127.0.0.1:{grpc_port}",
               "SDV_MQTT_ADDRESS": f"mqtt://127.0.0.1:{mqtt_port}"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def install(package: Path, where: Path) -> Path:
    """Unpack and install as the device agent does: own venv, vendored wheels, no index."""
    with tarfile.open(package, "r:gz") as tar:
        tar.extractall(where, filter="data")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "--disable-pip-version-check",
                    "-q", "--find-links", str(where / "wheels" / "any"), "--find-links", str(where / "wheels" / ARCH),
                    "-r", str(where / "requirements.txt")], check=True, env=env, cwd=where)
    return venv / "bin" / "python"


def start(where: Path, python: Path, broker: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    launch = json.loads((where / "launch.json").read_text())
    argv = [str(python) if a == "{python}" else a for a in launch["argv"]]
    port = free_port()
    env = {**os.environ, **launch["env"], **broker, "SDV_HEALTH_PORT": str(port), "APP_NAME": "test-app",
           "APP_VERSION": "1.0.0", "PYTHONPATH": ""}
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=where, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, port


def wait_for(predicate: object, what: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what}; exit {proc.poll()}; log:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
            return reply.status == 200 and json.loads(reply.read())["status"] == "ok"
    except OSError:
        return False


# The Python these tests install and run the package with.
HERE = BuildOptions(python_versions=[f"{sys.version_info.major}.{sys.version_info.minor}"])


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def test_playground_default_app_installs_offline_and_runs(tmp_path: Path, broker: dict[str, str]) -> None:
    result = build_package(APPS / "playground_default.py", HERE, store=PackageStore(tmp_path / "s"))
    where = tmp_path / "pkg"
    python = install(result.path, where)
    log = tmp_path / "app.log"
    proc, port = start(where, python, broker, log)
    try:
        wait_for(lambda: healthy(port), "health endpoint never answered", proc, log)
        # on_start ran: it set Vehicle.Body.Lights.Beam.Low.IsOn and read it back through the broker
        # (the read is the current value, which only a provider changes).
        wait_for(lambda: "Light value " in log.read_text(errors="replace"), "app logic never ran", proc, log)
    finally:
        if proc.poll() is None:
            stop(proc)
    assert "ModuleNotFoundError" not in log.read_text(errors="replace")


def test_kuksa_client_app_installs_offline_and_runs(tmp_path: Path, broker: dict[str, str]) -> None:
    result = build_package(APPS / "kuksa_app.py", HERE, store=PackageStore(tmp_path / "s"))
    where = tmp_path / "pkg"
    python = install(result.path, where)
    log = tmp_path / "app.log"
    proc, port = start(where, python, broker, log)
    try:
        wait_for(lambda: healthy(port), "health endpoint never answered", proc, log)
        wait_for(lambda: "speed-watch starting" in log.read_text(errors="replace"), "app never started", proc, log)
        time.sleep(2)
        assert proc.poll() is None, log.read_text(errors="replace")  # connected and subscribed, still running
    finally:
        code = stop(proc) if proc.poll() is None else proc.returncode
    assert code == 128 + signal.SIGTERM
    assert "Traceback" not in log.read_text(errors="replace").split("SystemExit")[0]


def test_kuksa_template_app_connects_and_stops_cleanly(tmp_path: Path, broker: dict[str, str]) -> None:
    result = build_package(APPS / "kuksa_fragment.py", HERE, store=PackageStore(tmp_path / "s"))
    where = tmp_path / "pkg"
    python = install(result.path, where)
    log = tmp_path / "app.log"
    proc, port = start(where, python, broker, log)
    try:
        wait_for(lambda: "connected to databroker" in log.read_text(errors="replace"), "never connected", proc, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
            assert json.loads(reply.read())["kuksa_connection"] is True
    finally:
        code = stop(proc) if proc.poll() is None else proc.returncode
    text = log.read_text(errors="replace")
    assert code == 0, text
    assert "stopped" in text and "Traceback" not in text


def install_as_agent(package: Path, where: Path) -> Path:
    """Unpack and install as the device agent does: a venv laid out without pip (so without the
    setuptools a ``python -m venv`` on Python 3.11 brings), the vendored wheels unpacked into it."""
    with tarfile.open(package, "r:gz") as tar:
        tar.extractall(where, filter="data")
    venv = where / "venv"
    venvs.create(str(venv), venvs.package_find_links(str(where)), [], str(where / "requirements.txt"))
    return Path(venvs.venv_python(str(venv)))


def test_velocitas_template_app_runs_from_an_agent_made_venv(tmp_path: Path, broker: dict[str, str]) -> None:
    """velocitas_sdk.util.log imports opentelemetry's instrumentation, which imports pkg_resources:
    the package must bring a setuptools that still has it, as the device venv has none of its own."""
    options = BuildOptions(python_versions=HERE.python_versions, platforms=[ARCH])
    result = build_package(APPS / "velocitas_template_root", options, store=PackageStore(tmp_path / "s"))
    where = tmp_path / "pkg"
    python = install_as_agent(result.path, where)
    def run(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False,
                              env={**os.environ, "PYTHONPATH": ""}, timeout=60)

    assert "No module named 'pip'" in run("import pip").stderr  # laid out as on the device
    imported = run("import velocitas_sdk.util.log")
    assert imported.returncode == 0, imported.stderr
    log = tmp_path / "app.log"
    proc, port = start(where, python, broker, log)
    try:
        wait_for(lambda: healthy(port), "health endpoint never answered", proc, log)
        time.sleep(3)  # the SDK crashed 0.4 s after start without pkg_resources
        assert proc.poll() is None, log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            stop(proc)
    assert "ModuleNotFoundError" not in log.read_text(errors="replace")
