"""Foreign devices: Debian bullseye (Python 3.9) and trixie (Python 3.13) behind SSH, as a user's
older or newer board would be."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import paramiko
import pytest

from sdv_studio.core.deploy.agent_link.session import agent_answer
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.rig.devices import LOGIN_USER, DeviceSpec
from tests.rig.plugin import rig_unavailable_reason
from tests.rig.rig import Rig
from tests.rig.roots import build_root

pytestmark = pytest.mark.rig

PYTHONS = {"bullseye": "3.9", "trixie": "3.13"}
DEBIAN = {"bullseye": "11", "trixie": "13"}


def _exec(rig: Rig, known_hosts: Path, ip: str, command: str) -> str:
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with rig.in_workstation():
        client.connect(ip, username=rig.user, key_filename=str(rig.key_path), timeout=10,
                       allow_agent=False, look_for_keys=False)
    try:
        _, stdout, stderr = client.exec_command(command, timeout=20)
        out = stdout.read().decode()
        assert stdout.channel.recv_exit_status() == 0, stderr.read().decode()
        return out
    finally:
        client.close()


@pytest.mark.parametrize("name", list(PYTHONS))
def test_a_login_finds_the_suites_own_python(foreign_rig: Rig, foreign_known_hosts: Path, name: str) -> None:
    ip = foreign_rig[name].ip
    out = _exec(foreign_rig, foreign_known_hosts, ip, "python3 --version; id -un; hostname; cat /etc/debian_version")
    version, user, hostname, debian = out.split("\n")[:4]
    assert version.startswith(f"Python {PYTHONS[name]}."), version
    assert (user, hostname) == (LOGIN_USER, name)
    assert debian.split(".")[0] == DEBIAN[name], debian


def test_a_foreign_device_keeps_its_files_to_itself(foreign_rig: Rig, foreign_known_hosts: Path) -> None:
    bullseye, trixie = foreign_rig["bullseye"], foreign_rig["trixie"]
    _exec(foreign_rig, foreign_known_hosts, bullseye.ip, "echo mine > ~/only-here && echo t > /tmp/only-here")
    assert (bullseye.home / "only-here").read_text() == "mine\n"
    out = _exec(foreign_rig, foreign_known_hosts, trixie.ip, "ls ~/only-here /tmp/only-here 2>/dev/null | wc -l")
    assert out.strip() == "0"
    assert not Path("/tmp/only-here").exists(), "a device's /tmp leaked onto the host"
    # Nothing of this machine's Python shows through the chroot.
    assert bullseye.run("ls /usr/bin/python3.11 /usr/bin/python3.13 2>/dev/null | wc -l").stdout.strip() == "0"


@pytest.mark.parametrize("name", list(PYTHONS))
def test_the_agent_reports_the_devices_python(foreign_rig: Rig, tmp_path: Path, name: str) -> None:
    device = foreign_rig[name]
    target = SshTarget(device.ip, user=foreign_rig.user, key_file=foreign_rig.key_path, use_keyring=False)
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    with foreign_rig.in_workstation():
        info = asyncio.run(agent_answer(target, trust, 30.0, "info"))
    props = info["properties"]
    assert str(props["python"]).startswith(f"{PYTHONS[name]}."), props
    assert props["arch"] == "x86_64"


def test_teardown_of_a_foreign_device_leaves_nothing(foreign_rig: Rig) -> None:
    # foreign_rig: skips like the others where no rig can run; this test builds its own.
    small = Rig.build([DeviceSpec("t9", "198.18.0.39", suite="trixie")])
    small["t9"].run("setsid sleep 301 >/dev/null 2>&1 < /dev/null &", user=LOGIN_USER)
    pid = small["t9"].pid
    small.teardown()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert small.tag not in listed
    assert not small.root.exists()
    assert not Path(f"/proc/{pid}").exists()
    leftovers = subprocess.run(["pgrep", "-f", "sleep 301"], capture_output=True, text=True, check=False)
    assert leftovers.stdout.strip() == ""
    assert str(small.root) not in Path("/proc/self/mountinfo").read_text()


def test_an_unreachable_mirror_fails_the_build_with_a_clear_error(tmp_path: Path) -> None:
    reason = rig_unavailable_reason(foreign=True)
    if reason:
        pytest.skip(reason)
    # Nothing listens on port 9 of this machine's loopback: apt's connection is refused at once.
    sources = b"deb [trusted=yes] http://127.0.0.1:9/debian bullseye main\n"
    with pytest.raises(RuntimeError, match="Debian mirror is unreachable"):
        build_root("bullseye", tmp_path / "root", sources, timeout=120)
    assert not (tmp_path / "root").exists()
