"""The kuksa-client app template's /health: the guide's HealthChecker, through the app's own client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sdv_studio.core.packaging.template import render_app
from tests.broker.helpers import broker_process, free_port
from tests.templates.probe import health_until

HOOKS = "async def on_start(app):\n    print('on_start ran', flush=True)\n"


def _run(tmp_path: Path, health_port: int, broker_port: int) -> subprocess.Popen[str]:
    app = tmp_path / "main.py"
    app.write_text(render_app(HOOKS))
    env = dict(os.environ, SDV_HEALTH_PORT=str(health_port), KUKSA_ENDPOINT=f"127.0.0.1:{broker_port}",
               APP_NAME="demo", APP_VERSION="1.2.3")
    return subprocess.Popen([sys.executable, str(app)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_health_follows_the_apps_own_connection_to_its_databroker(tmp_path: Path) -> None:
    health, broker_port = free_port(), free_port()
    proc = _run(tmp_path, health, broker_port)
    try:
        waiting = health_until(health, 503)
        assert (waiting["kuksa_connection"], waiting["app_running"]) == (False, True)
        assert waiting["reason"].startswith(f"databroker 127.0.0.1:{broker_port} not reachable yet"), waiting
        assert waiting["last_check"].endswith("Z") and waiting["status"] == "degraded"

        with broker_process("--port", str(broker_port)) as broker:
            up = health_until(health, 200, timeout=30)  # the app retries its connection every few seconds
            assert (up["status"], up["kuksa_connection"], up["reason"]) == ("ok", True, "")
            broker["process"].terminate()
            broker["process"].wait(timeout=10)
            down = health_until(health, 503)
            assert down["reason"].startswith(f"databroker 127.0.0.1:{broker_port} not reachable:"), down

        with broker_process("--port", str(broker_port)):
            assert health_until(health, 200, timeout=30)["kuksa_connection"] is True
    finally:
        proc.kill()
        out, _ = proc.communicate()
    assert "on_start ran" in out
