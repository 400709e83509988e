"""`sdv-studio metrics` and `sdv-studio monitor` against This computer: a kuksa-client app deployed
here, wired to a databroker on a free port, its figures and its signals' values."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kuksa_client.grpc import Datapoint, VSSClient

from tests.broker.helpers import broker_process
from tests.cli.test_local_target import cli
from tests.locations import REPO

APP = REPO / "tests" / "data" / "apps" / "kuksa_app.py"


def test_invalid_input_is_refused_with_the_option_named(tmp_path: Path) -> None:
    bad_signal = cli(tmp_path, "monitor", "speed-watch", "--device", "local", "--signal", "Speed")
    assert bad_signal.returncode == 2
    assert bad_signal.stderr.strip() == "--signal: 'Speed': expected a VSS path such as Vehicle.Speed"
    bad_app = cli(tmp_path, "monitor", "Speed Watch", "--device", "local")
    assert bad_app.returncode == 2 and bad_app.stderr.startswith("APP: ")
    assert cli(tmp_path, "metrics").returncode == 2  # no device named


def test_a_device_that_cannot_be_reached_fails_metrics(tmp_path: Path) -> None:
    done = cli(tmp_path, "metrics", "--device", "127.0.0.1:1", "--json", "--timeout", "5")
    assert done.returncode == 1
    [row] = json.loads(done.stdout)["devices"]
    assert row["deviceId"] == "127.0.0.1:1" and "cannot connect" in row["error"]
    assert "127.0.0.1:1: " in done.stderr and "Traceback" not in done.stderr


def ctrl_c_default() -> None:
    """For a child the test interrupts: SIGINT handled as in a terminal's foreground program. A job
    started in the background by a script (``cmd &``, nohup) inherits SIGINT ignored, and so would
    every process the test starts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _monitor(home: Path, port: int, seconds: float) -> list[dict[str, Any]]:
    """`monitor --json` for a while, Speed set meanwhile, then Ctrl-C: its lines."""
    env = dict(os.environ, SDV_STUDIO_HOME=str(home / "studio"))
    proc = subprocess.Popen([sys.executable, "-m", "sdv_studio", "monitor", "speed-watch", "--device", "local",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
                            preexec_fn=ctrl_c_default)
    try:
        time.sleep(seconds / 2)
        with VSSClient("127.0.0.1", port) as client:
            for speed in (10.0, 20.0, 30.0):
                client.set_current_values({"Vehicle.Speed": Datapoint(speed)})
                time.sleep(0.2)
        time.sleep(seconds / 2)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err  # interrupting is how a monitor ends
    return [json.loads(line) for line in out.splitlines()]


def test_metrics_and_monitor_of_an_app_on_this_computer(local_target_home: Path) -> None:
    with broker_process() as broker:
        built = cli(local_target_home, "package", str(APP), "--name", "speed-watch", "--python", "3.11", "--platform",
                    "x86_64", "--json")
        assert built.returncode == 0, built.stderr
        deployed = cli(local_target_home, "deploy", json.loads(built.stdout)["packageId"], "--device", "local",
                       "--json", "--grace", "1", "--broker", f"127.0.0.1:{broker['port']}")
        assert deployed.returncode == 0, deployed.stderr

        lines = _monitor(local_target_home, broker["port"], 8)
        once = cli(local_target_home, "metrics", "--device", "local", "--json")
        table = cli(local_target_home, "metrics", "--device", "local")

    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "link-up" and "metrics" in kinds, kinds
    [subscribed] = [line for line in lines if line["kind"] == "subscribed"]
    # The package's signals, on the databroker the app was deployed with.
    assert subscribed["signals"] == ["Vehicle.Body.Lights.Beam.Low.IsOn", "Vehicle.Speed"]
    assert subscribed["broker"] == f"127.0.0.1:{broker['port']}"
    speeds = [line["value"] for line in lines if line["kind"] == "signal" and line["path"] == "Vehicle.Speed"]
    assert speeds[-3:] == [10.0, 20.0, 30.0]
    beam = [line["value"] for line in lines if line.get("path") == "Vehicle.Body.Lights.Beam.Low.IsOn"]
    assert beam == [True]  # what the app set

    assert once.returncode == 0, once.stderr
    [device] = json.loads(once.stdout)["devices"]
    app = next(a for a in device["apps"] if a["name"] == "speed-watch")
    assert app["status"] == "running" and app["metered"] and app["rss"] > 0
    # It wrote the beam once and was told of Speed's first value and its three changes.
    assert app["signalUpdatesSent"] == 1 and app["signalUpdatesReceived"] == 4 and app["errors"] == 0
    assert app["signal_updates"] == 5 and app["kuksaCalls"] >= 2  # connecting asks the server's info; the set
    assert table.returncode == 0 and "speed-watch" in table.stdout and "running" in table.stdout


HANGING_CLOSE = """
import asyncio, contextlib, time
from sdv_studio.cli import monitor_cmd
monitor_cmd.CLOSE_SECONDS = 1.0

async def shown():
    await asyncio.to_thread(time.sleep, 60)  # what closing waits for: asyncio.run joins this thread

print("watching", flush=True)
with contextlib.suppress(KeyboardInterrupt):
    asyncio.run(monitor_cmd._until_interrupted(shown()))
"""


def test_a_close_that_hangs_after_ctrl_c_ends_within_its_bound_and_says_where_it_waited() -> None:
    proc = subprocess.Popen([sys.executable, "-c", HANGING_CLOSE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, preexec_fn=ctrl_c_default)
    assert proc.stdout is not None and proc.stdout.readline() == "watching\n"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    began = time.monotonic()
    _out, err = proc.communicate(timeout=30)  # without the bound: the 60 s the thread sleeps
    assert time.monotonic() - began < 20 and proc.returncode == 1
    # Where it waited: asyncio.run's close, joining the thread that never ends.
    assert err.startswith("Timeout (0:00:01)!") and "in _do_shutdown" in err and "runners.py" in err, err
