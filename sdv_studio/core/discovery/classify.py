"""From probe facts (and mDNS TXT properties) to the DeviceInfo vocabulary; pure functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sdv_studio.models.broker import KuksaBrokerInfo
from sdv_studio.models.device import Architecture, DeviceCapabilities, DeviceInfo, DeviceType, Runtime
from sdv_studio.models.sizes import human_size

MIN_PYTHON = (3, 8)  # what the device agent and packaged apps need natively
_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64", "armv8l": "arm64"}
# What the device agent writes in its TXT "type" (sdvagent.sysinfo) and what a prototype ECU declares.
_TXT_TYPES: dict[str, DeviceType] = {
    "jetson-orin": "jetson-orin",
    "automotive-prototype": "automotive-prototype",
    "prototype": "automotive-prototype",
    "linux": "linux-generic",
    "linux-generic": "linux-generic",
    "jetson": "linux-generic",
}


@dataclass
class Assessment:
    type: DeviceType
    architecture: Architecture
    runtime: Runtime | None
    capabilities: DeviceCapabilities
    compatible: bool
    reason: str | None
    python: str | None
    python_venv: bool | None
    notes: list[str] = field(default_factory=list)


def architecture(machine: str | None) -> Architecture:
    return _ARCH.get((machine or "").lower(), "unknown")  # type: ignore[return-value]


def type_from_properties(props: dict[str, str]) -> DeviceType:
    return _TXT_TYPES.get(props.get("type", "").lower(), "unknown")


def device_type(facts: dict[str, str], props: dict[str, str]) -> DeviceType:
    # A device that declares itself a prototype ECU is one, whatever board it runs on.
    if type_from_properties(props) == "automotive-prototype":
        return "automotive-prototype"
    model = facts.get("model", "").lower()
    if "tegra" in facts or "jetson" in model:
        # The release file marks a Jetson; only a readable model naming another board says it isn't an Orin.
        return "jetson-orin" if not model or "orin" in model else "linux-generic"
    return "linux-generic"


def _kb(facts: dict[str, str], key: str) -> int | None:
    value = facts.get(key, "")
    return int(value) * 1024 if value.isdigit() else None


def _python_version(text: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.split(".")[:2]) if text else None
    except ValueError:
        return None


def assess(facts: dict[str, str], props: dict[str, str], brokers: list[KuksaBrokerInfo] | None = None) -> Assessment:
    """``brokers``: what the probe found answering on the device (core.kuksa.on_device)."""
    problems: list[str] = []
    notes: list[str] = []
    python = facts.get("python")
    venv = facts.get("venv") == "1" if python else None
    version = _python_version(python)
    native = bool(version and version >= MIN_PYTHON and venv)
    if not python:
        problems.append("no python3")
    elif version is None or version < MIN_PYTHON:
        problems.append(f"python3 {python} is older than {'.'.join(map(str, MIN_PYTHON))}")
    elif not venv:
        problems.append("python3 cannot create a venv (install python3-venv)")

    docker = "docker_version" in facts
    if not docker and facts.get("docker_cli") == "1":
        detail = facts.get("docker_error") or "no engine answered"
        if facts.get("docker_socket") == "denied":
            detail = f"{facts.get('user', 'the login user')} may not use /var/run/docker.sock (docker group?)"
        notes.append(f"docker: {detail}")
    runtime: Runtime | None = "both" if native and docker else "docker" if docker else "native" if native else None

    arch = architecture(facts.get("arch"))
    if arch == "unknown":
        problems.append(f"architecture {facts.get('arch') or '?'} is not supported (arm64 or x86_64)")
    if runtime is None:
        problems.append("neither Python with venv nor a usable Docker engine")

    memory, storage = _kb(facts, "mem_kb"), _kb(facts, "disk_free_kb")
    # A databroker that answers, not a port number or a process name: the Kuksa step says the same.
    kuksa = any(b.kind == "databroker" for b in brokers or [])
    caps = DeviceCapabilities(
        gpu=bool(facts.get("nvidia_smi") or "tegra" in facts or "jetson" in facts.get("model", "").lower()),
        kuksa=kuksa,
        memory=human_size(memory) if memory else "unknown",
        storage=human_size(storage) if storage else "unknown",
        memory_bytes=memory,
        storage_bytes=storage,
        docker_version=facts.get("docker_version"),
    )
    incompatible = runtime is None or arch == "unknown"
    return Assessment(
        type=device_type(facts, props),
        architecture=arch,
        runtime=runtime,
        capabilities=caps,
        compatible=not incompatible,
        reason="; ".join(problems) if incompatible else None,
        python=python,
        python_venv=venv,
        notes=notes if incompatible else problems + notes,  # e.g. no venv, but Docker works
    )


def with_facts(device: DeviceInfo, facts: dict[str, str], props: dict[str, str],
               brokers: list[KuksaBrokerInfo]) -> DeviceInfo:
    """``device`` as a probe that got through describes it: online, assessed, its notes and brokers."""
    found = assess(facts, props, brokers)
    return device.model_copy(update={
        "status": "online", "type": found.type, "architecture": found.architecture, "runtime": found.runtime,
        "capabilities": found.capabilities, "compatible": found.compatible, "reason": found.reason,
        "notes": found.notes, "python": found.python, "python_venv": found.python_venv,
        "hostname": facts.get("hostname"), "os": facts.get("os"), "brokers": brokers,
    })
