"""The per-device account: what the agent and the engine say they applied, never more."""

from __future__ import annotations

from sdv_studio.core.deploy.security.access import BrokerAccess
from sdv_studio.core.deploy.security.report import (
    container_facts,
    container_security,
    native_security,
    outcome_note,
)

ACCESS = BrokerAccess(token="t", enforced=["data access restricted: …"])
MIB = 1024**2


def test_rlimits_are_not_reported_as_memory_or_cpu_limits() -> None:
    report = {"memory": 512 * MIB, "cpu": 0.5, "enforcedBy": "rlimit", "memoryEnforced": True, "cpuEnforced": False,
              "sandbox": {"applied": ["NoNewPrivileges=yes"], "notApplied": [
                  "ProtectSystem: needs a systemd service; systemd does not run on this device"]}}
    security = native_security("advanced", "restricted", ACCESS, report)
    assert (security.memory_enforced, security.cpu_enforced, security.limits_by) == (False, False, "rlimit")
    assert security.enforced == ["data access restricted: …", "sandbox: NoNewPrivileges=yes"]
    assert security.not_enforced[0].startswith("memory limit 512 MiB: only as an address-space cap")
    assert outcome_note(security) == "; NOT enforced: memory limit 512 MiB, CPU limit 0.5 cores, ProtectSystem"


def test_a_systemd_service_enforces_the_limits_and_the_sandbox() -> None:
    report = {"memory": 256 * MIB, "cpu": 1.0, "enforcedBy": "systemd-service", "memoryEnforced": True,
              "cpuEnforced": True, "sandbox": {"applied": ["NoNewPrivileges=yes", "PrivateTmp=yes"], "notApplied": []}}
    security = native_security("advanced", "open", BrokerAccess(), report)
    assert (security.memory_enforced, security.cpu_enforced, security.limits_by) == (True, True, "systemd")
    assert "memory limit 256 MiB (systemd)" in security.enforced and security.not_enforced == []
    assert outcome_note(security) == ""


def test_a_podman_container_with_network_none_is_reported_from_its_inspect() -> None:
    attrs = {"Config": {"User": "1000:1000"},
             "HostConfig": {"Memory": 512 * MIB, "NanoCpus": 500_000_000, "ReadonlyRootfs": True,
                            "SecurityOpt": ["no-new-privileges"], "CapDrop": ["CHOWN", "KILL", "NET_RAW"],
                            "NetworkMode": "none"}}
    engine = {"MemoryLimit": True, "CpuCfsQuota": False, "SecurityOptions": ["name=seccomp,profile=default"]}
    security = container_security("advanced", "restricted", ACCESS, container_facts(attrs, engine), "127.0.0.1:55555")
    assert security.memory_enforced and not security.cpu_enforced and security.cpu_limit == 0.5
    assert {"sandbox: user 1000:1000", "sandbox: every capability dropped", "sandbox: no new privileges",
            "sandbox: the engine's default seccomp profile"} <= set(security.enforced)
    assert security.enforced[-1].startswith("sandbox: no network but the databroker's (127.0.0.1:55555")
    assert security.not_enforced == ["CPU limit 0.5 cores: the device's container engine cannot enforce it "
                                     "(no cgroup controller)"]


def test_a_sandboxed_container_left_on_the_host_network_is_not_called_isolated() -> None:
    attrs = {"HostConfig": {"NetworkMode": "host"}}
    security = container_security("advanced", "open", BrokerAccess(), container_facts(attrs, {}), "127.0.0.1:55555")
    assert "sandbox: network isolation: the container runs on network host" in security.not_enforced
    assert "sandbox: seccomp: the device's container engine reports no seccomp support" in security.not_enforced
