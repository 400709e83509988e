"""The per-device account of what was enforced (models.deployment.DeviceSecurity), and the short
note the device's result message carries when something was not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.deploy.security.access import BrokerAccess
from sdv_studio.models.deployment import DeviceSecurity

_BY = {"systemd-scope": "systemd", "systemd-service": "systemd", "rlimit": "rlimit", "none": "none"}


def _mib(size: int) -> str:
    return f"{size / 1024**2:g} MiB"


def _limit_lines(memory: int | None, cpu: float | None, memory_ok: bool, cpu_ok: bool, by: str,
                 memory_why: str, cpu_why: str) -> tuple[list[str], list[str]]:
    enforced: list[str] = []
    missing: list[str] = []
    if memory is not None:
        (enforced if memory_ok else missing).append(
            f"memory limit {_mib(memory)}" + (f" ({by})" if memory_ok else f": {memory_why}"))
    if cpu is not None:
        (enforced if cpu_ok else missing).append(
            f"CPU limit {cpu:g} cores" + (f" ({by})" if cpu_ok else f": {cpu_why}"))
    return enforced, missing


def native_security(sandbox_level: str, data_access: str, access: BrokerAccess,
                    limits: Mapping[str, Any]) -> DeviceSecurity:
    """From the agent's report of how it started the app (``instance.limits``)."""
    by = str(limits.get("enforcedBy") or "none")
    memory, cpu = limits.get("memory"), limits.get("cpu")
    cgroups = by.startswith("systemd")
    memory_ok = bool(limits.get("memoryEnforced")) and cgroups
    cpu_ok = bool(limits.get("cpuEnforced")) and cgroups
    no_cgroups = "no cgroups: systemd is not usable on this device"
    memory_why = no_cgroups
    if by == "rlimit":
        memory_why = "only as an address-space cap (RLIMIT_AS), not resident memory; " + no_cgroups
    enforced, missing = _limit_lines(memory, cpu, memory_ok, cpu_ok, "systemd", memory_why, no_cgroups)
    sandbox = limits.get("sandbox") or {}
    enforced += [f"sandbox: {p}" for p in sandbox.get("applied") or []]
    missing += [f"sandbox: {p}" for p in sandbox.get("notApplied") or []]
    return DeviceSecurity(
        sandbox_level=sandbox_level, data_access=data_access,
        enforced=[*access.enforced, *enforced], not_enforced=[*access.not_enforced, *missing],
        memory_limit=memory, memory_enforced=memory_ok, cpu_limit=cpu, cpu_enforced=cpu_ok,
        limits_by=_BY.get(by, by) if memory_ok or cpu_ok or by == "rlimit" else "none")


@dataclass(frozen=True)
class ContainerFacts:
    """What the engine says of the running container and of itself."""

    memory: int  # HostConfig.Memory, 0 = none
    nano_cpus: int  # HostConfig.NanoCpus
    memory_supported: bool  # the engine's info: MemoryLimit
    cpu_supported: bool  # CpuCfsQuota
    seccomp: bool  # a seccomp profile in the engine's SecurityOptions
    network: str  # HostConfig.NetworkMode
    profile: list[str]  # the guide's options as applied: user, read-only root, …


def container_facts(attrs: Mapping[str, Any], engine_info: Mapping[str, Any]) -> ContainerFacts:
    host = attrs.get("HostConfig") or {}
    config = attrs.get("Config") or {}
    profile = []
    if config.get("User"):
        profile.append(f"user {config['User']}")
    if host.get("ReadonlyRootfs"):
        profile.append("read-only root filesystem")
    if any("no-new-privileges" in str(opt) for opt in host.get("SecurityOpt") or []):
        profile.append("no new privileges")
    dropped = host.get("CapDrop") or []
    if "ALL" in dropped or (dropped and not host.get("CapAdd")):  # podman lists what ALL dropped
        profile.append("every capability dropped")
    options = " ".join(str(o) for o in engine_info.get("SecurityOptions") or [])
    return ContainerFacts(
        memory=int(host.get("Memory") or 0), nano_cpus=int(host.get("NanoCpus") or 0),
        memory_supported=bool(engine_info.get("MemoryLimit")), cpu_supported=bool(engine_info.get("CpuCfsQuota")),
        seccomp="seccomp" in options and "seccomp=unconfined" not in " ".join(host.get("SecurityOpt") or []),
        network=str(host.get("NetworkMode") or ""), profile=profile)


def container_security(sandbox_level: str, data_access: str, access: BrokerAccess, facts: ContainerFacts,
                       isolated_to: str | None) -> DeviceSecurity:
    """``isolated_to``: what the container's network reaches when sandboxed (its databroker), else None."""
    memory = facts.memory or None
    cpu = facts.nano_cpus / 1e9 or None
    memory_ok, cpu_ok = bool(memory) and facts.memory_supported, bool(cpu) and facts.cpu_supported
    unsupported = "the device's container engine cannot enforce it (no cgroup controller)"
    enforced, missing = _limit_lines(memory, cpu, memory_ok, cpu_ok, "container engine", unsupported, unsupported)
    enforced += [f"sandbox: {item}" for item in facts.profile]
    (enforced if facts.seccomp else missing).append(
        "sandbox: the engine's default seccomp profile" if facts.seccomp else
        "sandbox: seccomp: the device's container engine reports no seccomp support")
    if isolated_to is not None:
        if facts.network == "none":
            enforced.append(f"sandbox: no network but the databroker's ({isolated_to}, through a unix socket)")
        else:
            missing.append(f"sandbox: network isolation: the container runs on network {facts.network}")
    return DeviceSecurity(
        sandbox_level=sandbox_level, data_access=data_access,
        enforced=[*access.enforced, *enforced], not_enforced=[*access.not_enforced, *missing],
        memory_limit=memory, memory_enforced=memory_ok, cpu_limit=cpu, cpu_enforced=cpu_ok,
        limits_by="container engine" if memory_ok or cpu_ok else "none")


def outcome_note(security: DeviceSecurity) -> str:
    """What the device's one-line result adds: what was not enforced, named short."""
    if not security.not_enforced:
        return ""
    names = [line.split(":", 1)[0] if not line.startswith("sandbox: ") else line.split(":", 2)[1].strip()
             for line in security.not_enforced]
    return "; NOT enforced: " + ", ".join(dict.fromkeys(names))
