"""The rig's own tests: what every other rig test relies on."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import docker
import paramiko
import pytest
from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

from tests.rig.devices import JETSON_RELEASE, LOGIN_USER
from tests.rig.plugin import known_hosts as known_hosts_of
from tests.rig.plugin import rig_unavailable_reason
from tests.rig.rig import Rig, scale_specs

pytestmark = pytest.mark.rig


def _ssh(rig: Rig, known_hosts: Path, ip: str) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        ip, username=rig.user, key_filename=str(rig.key_path), timeout=10, allow_agent=False, look_for_keys=False
    )
    return client


def _exec(client: paramiko.SSHClient, command: str) -> str:
    _, stdout, stderr = client.exec_command(command, timeout=20)
    out = stdout.read().decode()
    assert stdout.channel.recv_exit_status() == 0, stderr.read().decode()
    return out


def test_paramiko_logs_into_three_devices_as_the_non_root_user(rig: Rig, rig_known_hosts: Path) -> None:
    with rig.in_workstation():
        for name in ("d1", "d2", "d4"):
            client = _ssh(rig, rig_known_hosts, rig[name].ip)
            try:
                assert _exec(client, "id -un").strip() == LOGIN_USER
                assert _exec(client, "id -u").strip() != "0"
                assert _exec(client, "hostname").strip() == name
            finally:
                client.close()


def test_devices_do_not_see_each_others_files(rig: Rig, rig_known_hosts: Path) -> None:
    with rig.in_workstation():
        one = _ssh(rig, rig_known_hosts, rig["d4"].ip)
        two = _ssh(rig, rig_known_hosts, rig["d5"].ip)
        try:
            _exec(one, "echo secret > ~/only-on-d4 && echo t > /tmp/only-on-d4")
            assert _exec(one, "cat ~/only-on-d4").strip() == "secret"
            assert _exec(two, "ls ~/only-on-d4 /tmp/only-on-d4 2>/dev/null | wc -l").strip() == "0"
        finally:
            one.close()
            two.close()
    assert not Path("/tmp/only-on-d4").exists(), "a device's /tmp leaked onto the host"


def test_jetson_persona_carries_its_release_file(rig: Rig, rig_known_hosts: Path) -> None:
    with rig.in_workstation():
        jetson = _ssh(rig, rig_known_hosts, rig["d1"].ip)
        plain = _ssh(rig, rig_known_hosts, rig["d4"].ip)
        try:
            assert _exec(jetson, "cat /etc/nv_tegra_release") == JETSON_RELEASE
            assert _exec(plain, "test -e /etc/nv_tegra_release && echo yes || echo no").strip() == "no"
        finally:
            jetson.close()
            plain.close()
    assert not Path("/etc/nv_tegra_release").exists()


def test_unauthorized_device_refuses_the_key(rig: Rig, rig_known_hosts: Path) -> None:
    with rig.in_workstation(), pytest.raises(paramiko.AuthenticationException):
        _ssh(rig, rig_known_hosts, rig["d8"].ip)


def test_workstation_cannot_reach_outside_the_rig(rig: Rig) -> None:
    # The rig LAN has no route off the bridge: the host's own subnet is unreachable from it.
    result = subprocess.run(
        rig.workstation_argv("ip", "route", "get", "192.0.2.1"), capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "unreachable" in result.stderr.lower()


def test_docker_py_over_ssh_runs_a_container_with_a_memory_limit(
    rig: Rig, rig_known_hosts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip = rig["d2"].ip
    # docker-py's paramiko transport takes the key from ~/.ssh/config and rejects hosts
    # missing from ~/.ssh/known_hosts: give it a home holding the rig's.
    ssh_dir = tmp_path / ".ssh"
    ssh_dir.mkdir()
    (ssh_dir / "config").write_text(f"Host {ip}\n  IdentityFile {rig.key_path}\n")
    (ssh_dir / "known_hosts").write_text(rig_known_hosts.read_text())
    monkeypatch.setenv("HOME", str(tmp_path))
    with rig.in_workstation():
        client = docker.DockerClient(base_url=f"ssh://{rig.user}@{ip}", use_ssh_client=False, timeout=60)
        try:
            out = client.containers.run(
                "python:3.11-slim",
                ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"],
                mem_limit="192m",
                remove=True,
                network_mode="host",
            )
            assert int(out.decode().strip()) == 192 * 1024 * 1024
        finally:
            client.close()


def test_zeroconf_service_in_a_device_is_found_from_the_workstation(rig: Rig) -> None:
    register = (
        "import socket, time\n"
        "from zeroconf import ServiceInfo, Zeroconf\n"
        f"info = ServiceInfo('_sdv-agent._tcp.local.', 'rig-d5._sdv-agent._tcp.local.',"
        f" addresses=[socket.inet_aton('{rig['d5'].ip}')], port=22, properties={{'arch': 'x86_64'}},"
        " server='d5.local.')\n"
        "zc = Zeroconf(interfaces=['" + rig["d5"].ip + "'])\n"
        "zc.register_service(info)\n"
        "print('registered', flush=True)\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen(
        ["nsenter", "-t", str(rig["d5"].pid), "-n", "--", sys.executable, "-c", register],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "registered", proc.stderr.read() if proc.stderr else ""
        found = threading.Event()
        seen: dict[str, bytes | None] = {}
        wanted = "rig-d5._sdv-agent._tcp.local."

        def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
            # Devices that earlier tests deployed to advertise themselves too: resolve only ours
            # (a resolve still running when the browser closes would fail in its thread).
            if state_change is ServiceStateChange.Added and name == wanted:
                info = zeroconf.get_service_info(service_type, name, timeout=3000)
                if info:
                    seen[name] = info.properties.get(b"arch")
                    found.set()

        def browse() -> None:
            # A thread of its own: zeroconf's blocking API refuses to work in a thread that has a
            # running asyncio loop, as the main thread may after Qt/asyncio tests.
            with rig.in_workstation():
                zc = Zeroconf(interfaces=[rig.workstation_ip])
                try:
                    ServiceBrowser(zc, "_sdv-agent._tcp.local.", handlers=[on_change])
                    found.wait(10)
                finally:
                    zc.close()

        browser = threading.Thread(target=browse)
        browser.start()
        browser.join(20)
        assert found.is_set(), "service not found over mDNS"
        assert seen[wanted] == b"x86_64"
    finally:
        proc.kill()
        proc.wait()


def test_teardown_leaves_no_namespace_folder_or_process(rig: Rig) -> None:
    from tests.rig.devices import DeviceSpec

    small = Rig.build([DeviceSpec("d1", "198.18.0.11", engine=True), DeviceSpec("d2", "198.18.0.12")])
    # A process detached from the SSH session, as the device agent's supervisor will be.
    # A command line of this run's own: pgrep below must not see another run's (or anybody's) sleep.
    orphan = f"sleep 300.{os.getpid()}"
    small["d2"].run(f"setsid {orphan} >/dev/null 2>&1 < /dev/null &", user=LOGIN_USER)
    pids = [small[n].pid for n in ("d1", "d2")]
    small.teardown()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert small.tag not in listed
    assert not small.root.exists()
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)
    leftovers = subprocess.run(["pgrep", "-f", orphan], capture_output=True, text=True, check=False)
    assert leftovers.stdout.strip() == ""
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(small.root) not in mounts


def test_lightweight_devices_log_in_and_share_a_root_none_of_them_can_change() -> None:
    """bench/scale.py's devices: sshd alone, this machine's root read-only in each, their own /tmp."""
    reason = rig_unavailable_reason()
    if reason:
        pytest.skip(reason)
    small = Rig.build(scale_specs(3))
    try:
        known_hosts = known_hosts_of(small)
        with small.in_workstation():
            for device in small.devices.values():
                client = _ssh(small, known_hosts, device.ip)
                try:
                    assert _exec(client, "hostname").strip() == device.name
                finally:
                    client.close()
        device = small["s3"]
        refused = device.run(f"touch /usr/sdv-rig-{small.tag}", check=False)  # as the device's root
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr
        assert not Path(f"/usr/sdv-rig-{small.tag}").exists()
        device.run("touch /tmp/own && touch /etc/own")
        assert (device.root / "tmp" / "own").exists() and (device.root / "etc" / "own").exists()
    finally:
        small.teardown()
