"""Probe facts → DeviceInfo vocabulary (pure functions, no network)."""

from __future__ import annotations

from sdv_studio.core.discovery.classify import assess, with_facts
from sdv_studio.core.discovery.probe import parse_facts
from sdv_studio.models.broker import KuksaBrokerInfo
from sdv_studio.models.device import DeviceInfo

BASE = "arch=aarch64\nhostname=orin\nuser=sdv\npython=3.10.12\nvenv=1\nmem_kb=32000000\ndisk_free_kb=60000000\nend=1\n"


def test_jetson_orin_with_gpu_and_docker() -> None:
    facts = parse_facts(BASE + "tegra=# R36 (release)\nmodel=NVIDIA Jetson AGX Orin Developer Kit\n"
                        "docker_cli=1\ndocker_version=24.0.7\n")
    found = assess(facts, {}, [KuksaBrokerInfo(host="10.0.0.5", port=55555, response_time=1.0, local_only=True)])
    assert (found.type, found.architecture, found.runtime, found.compatible) == ("jetson-orin", "arm64", "both", True)
    assert found.capabilities.gpu and found.capabilities.kuksa
    assert (found.capabilities.memory, found.capabilities.storage) == ("30.5GB", "57.2GB")


def test_an_mqtt_broker_is_not_kuksa() -> None:
    mqtt = KuksaBrokerInfo(host="10.0.0.5", port=1883, kind="mqtt", response_time=1.0)
    assert not assess(parse_facts(BASE), {}, [mqtt]).capabilities.kuksa


def test_older_jetson_is_not_called_an_orin() -> None:
    assert assess(parse_facts(BASE + "tegra=# R32\nmodel=NVIDIA Jetson Xavier NX\n"), {}).type == "linux-generic"


def test_docker_denied_is_a_note_and_native_still_works() -> None:
    found = assess(parse_facts(BASE + "docker_cli=1\ndocker_socket=denied\ndocker_error=permission denied\n"), {})
    assert found.runtime == "native" and found.compatible
    assert found.notes == ["docker: sdv may not use /var/run/docker.sock (docker group?)"]


def test_incompatible_devices_say_why() -> None:
    old = assess(parse_facts("arch=armv7l\npython=3.6.9\nvenv=1\nend=1\n"), {})
    assert old.compatible is False and old.runtime is None
    assert old.reason == ("python3 3.6.9 is older than 3.8; architecture armv7l is not supported (arm64 or x86_64); "
                          "neither Python with venv nor a usable Docker engine")
    docker_only = assess(parse_facts("arch=x86_64\npython=3.11.2\nvenv=0\ndocker_version=4.3.1\nend=1\n"), {})
    assert docker_only.runtime == "docker" and docker_only.compatible
    assert docker_only.notes == ["python3 cannot create a venv (install python3-venv)"]


def test_agent_property_declares_a_prototype() -> None:
    assert assess(parse_facts(BASE), {"type": "automotive-prototype"}).type == "automotive-prototype"
    assert assess(parse_facts(BASE), {}).type == "linux-generic"


def test_parse_facts_ignores_noise() -> None:
    assert parse_facts("motd line\nkey=a=b\n=x\nbad key=1\n") == {"key": "a=b"}


def test_a_probed_device_keeps_its_notes_and_brokers() -> None:
    facts = parse_facts(BASE + "docker_cli=1\ndocker_socket=denied\nos=Ubuntu 22.04\n")
    broker = KuksaBrokerInfo(host="10.0.0.5", port=55555, response_time=1.0, local_only=True)
    device = with_facts(DeviceInfo(id="orin", name="Orin", ip="10.0.0.5", status="offline"), facts, {}, [broker])
    assert (device.status, device.runtime, device.compatible, device.hostname, device.os) == (
        "online", "native", True, "orin", "Ubuntu 22.04")
    assert device.notes == ["docker: sdv may not use /var/run/docker.sock (docker group?)"]
    assert device.brokers == [broker] and device.capabilities.kuksa
