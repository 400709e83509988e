"""``sdv-studio broker`` and ``sdv-studio brokers`` from the outside."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.broker.helpers import VSS_40, broker_process, free_port


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sdv_studio", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_broker_bad_input_exits_2_one_line_per_problem(tmp_path) -> None:
    result = cli("broker", "--port", "70000", "--vss", str(tmp_path / "missing.json"), "--tls-cert", "x.pem")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4 and "Traceback" not in result.stderr
    assert any(line.startswith("--vss:") for line in lines)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = cli("broker", "--port", str(free_port()), "--no-mqtt", "--vss", str(broken))
    assert result.returncode == 2 and result.stderr.startswith("--vss:") and "Traceback" not in result.stderr


def test_port_in_use_fails_cleanly() -> None:
    with broker_process() as info:
        result = cli("broker", "--port", str(info["port"]), "--no-mqtt")
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_brokers_finds_databroker_and_mqtt() -> None:
    with broker_process("--vss", str(VSS_40), mqtt=True) as info:
        result = cli("brokers", "--host", "127.0.0.1", "--port", str(info["port"]),
                     "--port", str(info["mqtt_port"]), "--json")
    assert result.returncode == 0, result.stderr
    found = {b["port"]: b for b in json.loads(result.stdout)["brokers"]}
    broker = found[info["port"]]
    assert broker["kind"] == "databroker" and broker["status"] == "online"
    assert broker["version"] and broker["vssVersion"] == "4.0.0" and broker["responseTime"] >= 0
    assert broker["apis"] == ["kuksa.val.v2", "kuksa.val.v1", "sdv.databroker.v1"]
    assert broker["tls"] is False and broker["auth"] is False
    assert found[info["mqtt_port"]]["kind"] == "mqtt"


def test_brokers_bad_input() -> None:
    result = cli("brokers", "--port", "0", "--host", " ")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 2
