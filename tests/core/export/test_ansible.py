"""The Ansible export's files, read back by PyYAML and by ansible-core itself (no devices: the rig test,
tests/cli/test_export_ansible_rig.py, runs the playbook)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import paramiko
import pytest
import yaml

from sdv_studio.core.deploy import DeviceRef
from sdv_studio.core.deploy.agent_link.client import agent_bundle
from sdv_studio.core.deploy.agent_link.local_target import local_target
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.security.signals import declared_signals
from sdv_studio.core.deploy.security.tokens import mint, workstation_key
from sdv_studio.core.deploy.waves import MaxFailed, parse_waves
from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
from sdv_studio.core.export.ansible import ExportInvalid, Rollout, export_ansible, max_fail_percentage
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.target import SshTarget
from tests.core.deploy.conftest import APPS, build

BIN = Path(sys.executable).parent
GIVEN_BROKER = DeployOptions(broker="10.0.0.9:55555", grace_seconds=1.0)


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> PackageFile:
    return build(tmp_path_factory.mktemp("light"), APPS / "light_counter.py", "light", platforms=["x86_64"])


@pytest.fixture
def known(tmp_path: Path) -> tuple[KnownHosts, paramiko.PKey]:
    hosts = KnownHosts(tmp_path / "sdv-known_hosts")
    key = paramiko.ECDSAKey.generate()
    hosts.add("10.0.0.1", key)
    hosts.add("[10.0.0.2]:2222", key)
    return hosts, key


DEVICES = [DeviceRef("orin-1", SshTarget("10.0.0.1", user="nvidia", key_file=Path("/keys/fleet"))),
           DeviceRef("root@10.0.0.2:2222", SshTarget("10.0.0.2", 2222, "root"))]


def read(path: Path) -> object:
    return yaml.safe_load(path.read_text())


def test_an_export_holds_the_devices_their_keys_the_agent_and_the_package(
        tmp_path: Path, light: PackageFile, known: tuple[KnownHosts, paramiko.PKey]) -> None:
    hosts, key = known
    out = tmp_path / "export"
    done = export_ansible(light, DEVICES, out, GIVEN_BROKER, Rollout(parse_waves("1,100%"), MaxFailed(count=0)),
                          known_hosts=hosts)
    assert (done.devices, done.serial, done.max_fail_percentage, done.note) == (["orin-1", "root@10.0.0.2:2222"],
                                                                               [1, 1], 0.0, None)
    group = read(out / "inventory.yml")["all"]["children"]["sdv_devices"]  # type: ignore[index]
    assert list(group["hosts"]) == ["orin-1", "root@10.0.0.2:2222"]  # the order given: serial batches follow it
    assert group["hosts"]["orin-1"] == {"ansible_host": "10.0.0.1", "ansible_port": 22, "ansible_user": "nvidia",
                                        "ansible_ssh_private_key_file": "/keys/fleet"}
    assert group["vars"]["sdv_host_key_checking"] == "yes"
    assert (out / "known_hosts").read_text().splitlines() == [
        f"10.0.0.1 {key.get_name()} {key.get_base64()}", f"[10.0.0.2]:2222 {key.get_name()} {key.get_base64()}"]

    [play] = read(out / "deploy.yml")  # type: ignore[misc]
    assert (play["hosts"], play["serial"], play["max_fail_percentage"]) == ("sdv_devices", [1, 1], 0)
    variables = read(out / "vars" / "deployment.yml")
    assert variables["sdv_app"] == {"name": "light", "version": "1.0.0", "packageId": light.package_id}  # type: ignore[index]
    assert variables["sdv_deploy"] == {"name": "light", "hotSwap": True, "rollback": True,  # type: ignore[index]
                                       "graceSeconds": 1.0, "healthTimeout": 30.0, "healthInterval": 30.0,
                                       "bootHook": True}
    assert variables["sdv_kuksa"]["broker"] == "10.0.0.9:55555" and not variables["sdv_kuksa"]["fallback"]  # type: ignore[index]
    digest, bundle = agent_bundle()
    assert (out / "files" / "agent" / f"agent-{digest}.tar").read_bytes() == bundle
    assert (out / "files" / "package" / f"{light.package_id}.tar.gz").read_bytes() == light.path.read_bytes()
    assert not (out / "files" / "broker").exists()  # a broker was given: SDV Studio's is not needed


def test_ansible_core_reads_the_playbook_and_points_ssh_at_the_exported_keys(
        tmp_path: Path, light: PackageFile, known: tuple[KnownHosts, paramiko.PKey]) -> None:
    out = tmp_path / "export"
    export_ansible(light, DEVICES, out, GIVEN_BROKER, Rollout(), known_hosts=known[0])
    check = subprocess.run([BIN / "ansible-playbook", "-i", "inventory.yml", "deploy.yml", "--syntax-check"],
                           cwd=out, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    # debug runs on this computer alone: the connection arguments as ssh would get them, templated.
    shown = subprocess.run([BIN / "ansible", "-i", "inventory.yml", "orin-1", "-m", "ansible.builtin.debug",
                            "-a", "var=ansible_ssh_common_args"], cwd=out, capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    answer = json.loads(shown.stdout.split("=>", 1)[1])
    assert answer["ansible_ssh_common_args"] == (f'-o UserKnownHostsFile="{out}/known_hosts" '
                                                 "-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes")


def test_the_fallback_databroker_travels_as_one_file_per_python_and_arch(
        tmp_path: Path, light: PackageFile, known: tuple[KnownHosts, paramiko.PKey]) -> None:
    out = tmp_path / "export"
    export_ansible(light, DEVICES[:1], out, DeployOptions(), Rollout(), known_hosts=known[0])
    broker = read(out / "vars" / "deployment.yml")["sdv_broker"]  # type: ignore[index]
    expected = broker_bundle("3.11", "x86_64")
    assert broker["bundles"] == {"3.11-x86_64": {"venv": expected.venv_name, "requirement": expected.requirement}}
    with tarfile.open(out / "files" / "broker" / "wheels" / "3.11-x86_64.tar") as tar:
        assert {m.name: tar.extractfile(m).read() for m in tar} == expected.files  # type: ignore[union-attr]
    argv = broker["serviceArgs"]["argv"]
    assert argv[argv.index("--vss") + 1] == "{{ sdv_prepared.uploads }}/broker-vss/vss_release_4.0.json"
    assert (out / "files" / "broker" / "vss" / "vss_release_4.0.json").is_file()
    assert "--no-mqtt" in broker["serviceArgsNoMqtt"]["argv"] and "--mqtt-port" in argv


def test_sdv_studios_databroker_verifies_the_workstations_key_and_the_apps_token_is_a_0600_secret(
        tmp_path: Path, light: PackageFile, known: tuple[KnownHosts, paramiko.PKey]) -> None:
    out = tmp_path / "export"
    done = export_ansible(light, DEVICES[:1], out, DeployOptions(), Rollout(), known_hosts=known[0])
    key = workstation_key()
    assert (out / "files" / "broker" / "auth" / f"{key.fingerprint}.pem").read_bytes() == key.public_pem
    variables = read(out / "vars" / "deployment.yml")
    kuksa = variables["sdv_kuksa"]  # type: ignore[index]
    assert (kuksa["recognise"], kuksa["tokenGiven"], kuksa["ca"]) == (True, False, None)
    assert (kuksa["key"], kuksa["keyFile"]) == (f"files/broker/auth/{key.fingerprint}.pem",
                                                f"broker-auth/{key.fingerprint}.pem")
    broker = variables["sdv_broker"]  # type: ignore[index]
    on_device = f"{{{{ sdv_prepared.uploads }}}}/broker-auth/{key.fingerprint}.pem"
    for args in (broker["serviceArgs"], broker["serviceArgsNoMqtt"]):
        assert args["argv"][args["argv"].index("--jwt-public-key") + 1] == on_device

    secrets = out / "vars" / "credentials.yml"
    assert secrets.stat().st_mode & 0o777 == 0o600 and done.credentials == secrets
    # As a deploy mints it: the app's declared signals (dataAccess restricted, the default), this key.
    assert read(secrets) == {"sdv_kuksa_token": mint(key, "light", declared_signals(light.entries).claim())}
    [play] = read(out / "deploy.yml")  # type: ignore[misc]
    assert play["vars_files"] == ["vars/deployment.yml", "vars/credentials.yml"]
    assert done.token_expires is not None and done.token_expires.year == 2038
    text = (out / "README.md").read_text()
    assert "ansible-vault encrypt vars/credentials.yml" in text and "2038-01-19 03:14:07 UTC" in text


def test_a_given_token_and_ca_travel_for_a_broker_that_is_not_sdv_studios(
        tmp_path: Path, light: PackageFile, known: tuple[KnownHosts, paramiko.PKey]) -> None:
    out = tmp_path / "export"
    ca = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    options = DeployOptions(broker="10.0.0.9:55555", broker_token="a.b.c", broker_ca=ca)
    done = export_ansible(light, DEVICES[:1], out, options, Rollout(), known_hosts=known[0])
    kuksa = read(out / "vars" / "deployment.yml")["sdv_kuksa"]  # type: ignore[index]
    assert (kuksa["recognise"], kuksa["tokenGiven"], kuksa["key"]) == (False, True, None)
    assert (out / kuksa["ca"]["file"]).read_bytes() == ca and kuksa["ca"]["path"].startswith("broker-ca/")
    assert read(out / "vars" / "credentials.yml") == {"sdv_kuksa_token": "a.b.c"}
    assert done.token_expires is None and done.not_enforced == []
    assert not (out / "files" / "broker" / "auth").exists()


def test_writing_again_replaces_an_earlier_export_and_refuses_other_folders(
        tmp_path: Path, light: PackageFile, known: tuple[KnownHosts, paramiko.PKey]) -> None:
    out = tmp_path / "export"
    export_ansible(light, DEVICES, out, GIVEN_BROKER, Rollout(), known_hosts=known[0])
    (out / "files" / "stale.whl").write_text("from an older export")
    (out / "NOTES.md").write_text("the user's own")
    export_ansible(light, DEVICES[:1], out, GIVEN_BROKER, Rollout(), known_hosts=known[0])
    assert not (out / "files" / "stale.whl").exists() and (out / "NOTES.md").exists()
    assert list(read(out / "inventory.yml")["all"]["children"]["sdv_devices"]["hosts"]) == ["orin-1"]  # type: ignore[index]

    other = tmp_path / "other"
    other.mkdir()
    (other / "site.yml").write_text("- hosts: all\n")
    with pytest.raises(ExportInvalid) as raised:
        export_ansible(light, DEVICES, other, GIVEN_BROKER, Rollout(), known_hosts=known[0])
    assert raised.value.problems == [f"--output {other}: not empty and not an earlier export; name a new or "
                                     "empty folder"]
    assert [p.name for p in other.iterdir()] == ["site.yml"]


def test_what_cannot_be_exported_is_said_at_once_before_anything_is_written(tmp_path: Path,
                                                                              light: PackageFile) -> None:
    docker = build(tmp_path, APPS / "light_counter.py", "dock", runtime="docker", platforms=["x86_64"])
    devices = [*DEVICES, DeviceRef("local", local_target())]
    out = tmp_path / "export"
    with pytest.raises(ExportInvalid) as raised:
        export_ansible(docker, devices, out, GIVEN_BROKER, Rollout(), known_hosts=KnownHosts(tmp_path / "none"))
    assert [line.split(":")[0] for line in raised.value.problems] == [
        str(docker.path), "--device orin-1", "--device root@10.0.0.2", "--device local"]
    assert "SDV Studio trusts no host key for [10.0.0.2]:2222 yet" in raised.value.problems[2]
    assert not out.exists()

    unwired = build(tmp_path, APPS / "light_counter.py", "unwired", platforms=["x86_64"], broker_auto_detect=False,
                    fallback_broker=False)
    with pytest.raises(ExportInvalid, match="names no broker"):
        export_ansible(unwired, DEVICES, out, DeployOptions(), Rollout(), known_hosts=KnownHosts(tmp_path / "none"),
                       accept_new=True)


def test_devices_without_a_trusted_key_are_accepted_on_first_use_when_asked(tmp_path: Path,
                                                                           light: PackageFile) -> None:
    out = tmp_path / "export"
    done = export_ansible(light, DEVICES, out, GIVEN_BROKER, Rollout(), known_hosts=KnownHosts(tmp_path / "none"),
                          accept_new=True)
    assert done.accepting_new == ["orin-1", "root@10.0.0.2:2222"]
    hosts = read(out / "inventory.yml")["all"]["children"]["sdv_devices"]["hosts"]  # type: ignore[index]
    assert {h["sdv_host_key_checking"] for h in hosts.values()} == {"accept-new"}
    assert (out / "known_hosts").read_text() == ""  # ssh adds the keys it is shown there


@pytest.mark.parametrize(
    ("max_failed", "serial", "percentage", "note"),
    [
        (MaxFailed(count=0), [1, 1, 6], 0.0, None),
        (MaxFailed(percent=25.0), [4, 8], 25.0, None),
        (MaxFailed(count=2), [10, 10], 25.0, None),  # 2 of 10 pass, 3 stop: exact
        (MaxFailed(count=1), [2, 4], 37.5, "batches of 2"),  # exact for 4; 1 of 2 is over 37.5%
        (MaxFailed(count=1), [1, 1, 6], 25.0, "batches of 1"),  # one device that fails is its whole batch
        (MaxFailed(percent=100.0), [3], 100.0, "batches of 3"),
    ],
)
def test_max_failed_becomes_one_max_fail_percentage(max_failed: MaxFailed, serial: list[int], percentage: float,
                                                     note: str | None) -> None:
    got, said = max_fail_percentage(max_failed, serial)
    assert got == percentage
    assert (said is None) if note is None else (note in str(said))


def test_exported_files_are_what_the_payload_says(tmp_path: Path, light: PackageFile,
                                                  known: tuple[KnownHosts, paramiko.PKey]) -> None:
    out = tmp_path / "export"
    export_ansible(light, DEVICES, out, GIVEN_BROKER, Rollout(), known_hosts=known[0])
    agent = read(out / "vars" / "deployment.yml")["sdv_agent"]  # type: ignore[index]
    with tarfile.open(fileobj=io.BytesIO((out / agent["bundle"]).read_bytes())) as tar:
        assert tar.extractfile(".bundle").read().decode().strip() == agent["digest"]  # type: ignore[union-attr]
    assert (out / agent["installer"]).read_text().startswith('"""Run on a device that lacks this agent version')
    assert agent["command"] == 'python3 "$HOME"/.local/share/sdv-studio/agent/entrypoint.py'
