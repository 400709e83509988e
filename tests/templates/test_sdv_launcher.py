"""The launcher every package runs its app with: health endpoint (with a real databroker call for
KUKSA apps), __main__ semantics, asyncio loop on demand, SIGTERM into SystemExit."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sdv_studio import shipped
from sdv_studio.core.packaging.template import LAUNCHER
from tests.broker.helpers import broker_process, venv
from tests.templates.probe import health_until, http_get

LAUNCHER_PATH = shipped.templates_dir() / LAUNCHER
SLEEPER = "import time\nprint('up', flush=True)\ntime.sleep(60)\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(app_dir: Path, code: str, *args: str, port: int = 0, python: str = sys.executable,
            **env: str) -> subprocess.Popen[str]:
    (app_dir / "main.py").write_text(code)
    env = dict(os.environ, SDV_HEALTH_PORT=str(port), APP_NAME="demo", APP_VERSION="1.2.3", PYTHONUNBUFFERED="1",
               **env)
    return subprocess.Popen([python, str(LAUNCHER_PATH), str(app_dir / "main.py"), *args], env=env,
                            cwd=app_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_health_answers_json_while_the_app_runs_and_404_elsewhere(tmp_path: Path) -> None:
    port = _free_port()
    proc = _launch(tmp_path, "import time\nprint('up', flush=True)\ntime.sleep(30)\n", port=port)
    try:
        status, body = http_get(port, "/health?verbose=1")
        answer = json.loads(body)
        assert status == 200 and answer["status"] == "ok"
        assert (answer["app"], answer["version"]) == ("demo", "1.2.3") and answer["uptime"] >= 0
        # A plain app has no databroker: its connection is not part of its health.
        assert (answer["kuksa_connection"], answer["app_running"], answer["reason"]) == (None, True, "")
        assert answer["last_check"].endswith("Z")
        assert http_get(port, "/metrics")[0] == 404
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:  # not a GET: no health
            raw.sendall(b"POST /health HTTP/1.0\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.0 404")
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # a prober that connects and says nothing does not stop the next one
        assert http_get(port, "/health")[0] == 200
    finally:
        proc.kill()
        proc.communicate()


def test_the_app_runs_as_main_with_its_folder_first_on_the_path(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("WHO = 'the app folder'\n")
    code = (
        "import dataclasses, pickle, sys\n"
        "import helper\n"
        "@dataclasses.dataclass\n"
        "class Point:\n"
        "    x: int\n"
        "print(__name__, helper.WHO, pickle.loads(pickle.dumps(Point(3))), sys.argv[1:],\n"
        "      sys.argv[0] == __file__, 'asyncio' in sys.modules)\n"
    )
    out, err = _launch(tmp_path, code, "--flag", "7").communicate(timeout=30)
    assert out.split("\n")[0] == "__main__ the app folder Point(x=3) ['--flag', '7'] True False", err
    assert "sdv-launcher: starting" in err


def test_an_app_that_imports_asyncio_finds_an_event_loop_set(tmp_path: Path) -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"  # get_event_loop() without a loop warns, or raises on 3.14
        "import asyncio\n"
        "loop = asyncio.get_event_loop()\n"
        "async def answer():\n"
        "    return 42\n"
        "print(loop.run_until_complete(answer()), loop.is_closed())\n"
    )
    proc = _launch(tmp_path, code)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out.strip() == "42 False", err


def test_sigterm_runs_the_apps_finally_blocks(tmp_path: Path) -> None:
    code = "import time\ntry:\n    print('ready', flush=True)\n    time.sleep(30)\nfinally:\n    print('cleaned up')\n"
    proc = _launch(tmp_path, code)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert out.strip() == "cleaned up" and proc.returncode == 128 + signal.SIGTERM


@pytest.mark.parametrize("port", ["", "0"])
def test_no_port_means_no_health_server(tmp_path: Path, port: str) -> None:
    env_code = "import threading\nprint([t.name for t in threading.enumerate()])\n"
    (tmp_path / "main.py").write_text(env_code)
    env = dict(os.environ, SDV_HEALTH_PORT=port)
    out = subprocess.run([sys.executable, str(LAUNCHER_PATH), str(tmp_path / "main.py")], env=env,
                         capture_output=True, text=True, timeout=30).stdout
    assert out.strip() == "['MainThread']"


def test_a_kuksa_app_is_healthy_only_while_its_databroker_answers(tmp_path: Path) -> None:
    port = _free_port()
    dead = _free_port()  # nothing listens there
    proc = _launch(tmp_path, SLEEPER, port=port, SDV_APP_FLAVOUR="kuksa", KUKSA_ENDPOINT=f"127.0.0.1:{dead}")
    try:
        down = health_until(port, 503)
        assert down["status"] == "degraded" and down["kuksa_connection"] is False and down["app_running"] is True
        assert down["reason"].startswith(f"databroker 127.0.0.1:{dead} not reachable"), down
    finally:
        proc.kill()
        proc.communicate()

    with broker_process() as broker:
        proc = _launch(tmp_path, SLEEPER, port=port, SDV_APP_FLAVOUR="kuksa",
                       KUKSA_ENDPOINT=f"127.0.0.1:{broker['port']}")
        try:
            up = health_until(port, 200)
            assert (up["status"], up["kuksa_connection"], up["reason"]) == ("ok", True, "")
            broker["process"].terminate()
            broker["process"].wait(timeout=10)
            gone = health_until(port, 503)
            assert gone["kuksa_connection"] is False and f"127.0.0.1:{broker['port']}" in gone["reason"]
        finally:
            proc.kill()
            proc.communicate()


@pytest.mark.slow
def test_a_velocitas_app_is_checked_through_the_sdks_address_and_api(tmp_path: Path) -> None:
    python = venv("velocitas-0.15.7", ["velocitas-sdk==0.15.7", "velocitas-model-generator==0.9.0"])
    port = _free_port()
    app = "import velocitas_sdk.vehicle_app, time\nprint('up', flush=True)\ntime.sleep(60)\n"
    with broker_process() as broker:
        address = f"grpc://127.0.0.1:{broker['port']}"
        proc = _launch(tmp_path, app, port=port, python=str(python), SDV_APP_FLAVOUR="velocitas",
                       SDV_VEHICLEDATABROKER_ADDRESS=address, SDV_MIDDLEWARE_TYPE="native")
        try:
            assert health_until(port, 200)["kuksa_connection"] is True
            broker["process"].terminate()
            broker["process"].wait(timeout=10)
            gone = health_until(port, 503)
            assert gone["reason"].startswith(f"databroker 127.0.0.1:{broker['port']} not reachable"), gone
        finally:
            proc.kill()
            proc.communicate()
