"""Databrokers on a device's own loopback, found through SSH: probe, scan capability, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio.core.discovery.probe import probe
from sdv_studio.core.kuksa.listening import parse_listening
from sdv_studio.core.kuksa.on_device import classify_at, detect_at
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.discovery.conftest import on_lan
from tests.core.kuksa.device_broker import REPO, broker_on
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig


@pytest.fixture(scope="module")
def d7_broker(rig: Rig) -> Iterator[int]:
    """d7 never receives deployments (which leave databrokers on d1-d6): only this one listens there."""
    with broker_on(rig["d7"]) as pid:
        yield pid


def _target(rig: Rig, name: str) -> SshTarget:
    return SshTarget(rig[name].ip, user=rig.user, key_file=rig.key_path, use_keyring=False)


def _listening(rig: Rig, name: str) -> set[int]:
    text = rig[name].run("awk 'FNR > 1 && $4 == \"0A\" {print $2}' /proc/net/tcp /proc/net/tcp6").stdout
    return set(parse_listening(text))


def test_loopback_broker_found_through_ssh_and_nothing_opened(rig: Rig, d7_broker: int, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    # Unreachable from the LAN: it binds the device's 127.0.0.1.
    assert 55555 not in {p for p, lst in parse_listening(" ".join(
        rig["d7"].run("awk 'FNR > 1 && $4 == \"0A\" {print $2}' /proc/net/tcp").stdout.split())).items()
        if not lst.local_only}
    before = _listening(rig, "d7")
    found = on_lan(rig, lambda: detect_at(_target(rig, "d7"), trust))
    assert _listening(rig, "d7") == before  # a forwarded channel, no port opened on the device
    databroker = next(b for b in found if b.port == 55555)
    assert (databroker.host, databroker.kind, databroker.local_only) == (rig["d7"].ip, "databroker", True)
    assert databroker.version == "0.1.0" and databroker.vss_version == "4.0.0"
    assert set(databroker.apis) == {"kuksa.val.v2", "kuksa.val.v1", "sdv.databroker.v1"}
    assert not databroker.tls and not databroker.auth


def test_one_port_classified_on_the_device(rig: Rig, d7_broker: int, tmp_path: Path) -> None:
    """Test connection's question: its loopback-bound port answers through SSH; a closed one is None."""
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    databroker = on_lan(rig, lambda: classify_at(_target(rig, "d7"), trust, 55555))
    assert databroker is not None
    assert (databroker.host, databroker.port, databroker.kind, databroker.local_only) == (
        rig["d7"].ip, 55555, "databroker", True)
    assert on_lan(rig, lambda: classify_at(_target(rig, "d7"), trust, 55556)) is None


def test_probe_reports_kuksa_from_the_same_detection(rig: Rig, d7_broker: int, tmp_path: Path) -> None:
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    with_broker = on_lan(rig, lambda: probe(_target(rig, "d7"), trust))
    assert [(b.port, b.kind, b.local_only) for b in with_broker.brokers] == [(55555, "databroker", True)]


def test_brokers_cli_device_json(rig: Rig, d7_broker: int, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "sdv_studio", "brokers", "--device", rig["d7"].ip,
            "--user", rig.user, "--identity", str(rig.key_path), "--accept-new-host-keys", "--json"]
    result = subprocess.run(rig.workstation_argv(*argv), capture_output=True, text=True, timeout=120, cwd=REPO,
                            env=dict(os.environ, SDV_STUDIO_HOME=str(tmp_path)), check=False)
    assert result.returncode == 0, result.stderr
    brokers = json.loads(result.stdout)["brokers"]
    assert [(b["host"], b["port"], b["localOnly"]) for b in brokers] == [(rig["d7"].ip, 55555, True)]
    for key in ("host", "port", "version", "status", "responseTime", "vssVersion", "apis", "tls", "auth"):
        assert key in brokers[0], key


def test_brokers_cli_device_with_an_unknown_host_key_says_so(rig: Rig, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "sdv_studio", "brokers", "--device", rig["d5"].ip, "--user", rig.user,
            "--identity", str(rig.key_path), "--json"]
    result = subprocess.run(rig.workstation_argv(*argv), capture_output=True, text=True, timeout=120, cwd=REPO,
                            env=dict(os.environ, SDV_STUDIO_HOME=str(tmp_path)), check=False)
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"brokers": []}
    assert f"{rig['d5'].ip}: host key not trusted yet" in result.stderr and "--accept-new-host-keys" in result.stderr
