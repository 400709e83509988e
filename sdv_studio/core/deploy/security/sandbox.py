"""The guide's sandbox levels, and what each runtime makes of them (docs/security.md):

- ``basic``: Docker runs the guide's profile (user 1000, read-only root, a noexec /tmp, no new
  privileges, every capability dropped, the engine's default seccomp profile) on the host's
  network; a native app runs with its resource limits;
- ``advanced`` (the strict sandbox): besides, no network but the databroker's. Docker: network
  ``none``, the databroker and its MQTT reached through a relay on a unix socket. Native: a systemd
  service with NoNewPrivileges, ProtectSystem=full, PrivateTmp, IPAddressDeny=any and IPAddressAllow
  loopback and the broker; without systemd, NoNewPrivileges only, the rest reported not applied;
- ``military``: advanced, and nothing less: a device that cannot apply every measure, or cannot
  enforce the memory and CPU limits, is refused before anything is started there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sdv_studio.core.deploy.orchestrator import DeployError

SANDBOX_LEVELS = ("basic", "advanced", "military")
DEFAULT_SANDBOX = "basic"  # models.package.SecurityConfig's default


def sandbox_of(manifest: Mapping[str, object]) -> str:
    security = manifest.get("security")
    level = security.get("sandboxLevel") if isinstance(security, dict) else None
    return str(level) if level in SANDBOX_LEVELS else DEFAULT_SANDBOX


def isolates(level: str) -> bool:
    """Whether the app may reach nothing on the network but its databroker."""
    return level in ("advanced", "military")


def refuse_partial(level: str, device_cannot: list[str]) -> None:
    """Under ``military``, a device that cannot enforce everything is refused, saying what it lacks."""
    if level == "military" and device_cannot:
        raise DeployError("sandboxLevel military: this device cannot enforce " + "; ".join(device_cannot)
                          + " (package with sandboxLevel advanced to run with what it can enforce)")


def native_shortfalls(info: Mapping[str, object], limited: bool) -> list[str]:
    """What a native device cannot enforce of ``military``, from the agent's info (``limitsVia``:
    how it would cap an app, ``systemd-scope`` when it can use systemd)."""
    if info.get("limitsVia") == "systemd-scope":
        return []
    what = "ProtectSystem, PrivateTmp and IPAddressAllow" + (", and the memory and CPU limits" if limited else "")
    return [f"{what} (systemd is not usable there)"]


def engine_shortfalls(engine_info: Mapping[str, Any]) -> list[str]:
    """What a container engine cannot enforce of ``military``, from its ``info``."""
    missing = []
    if not engine_info.get("MemoryLimit"):
        missing.append("the memory limit (no memory cgroup)")
    if not engine_info.get("CpuCfsQuota"):
        missing.append("the CPU limit (no CPU quota)")
    if "seccomp" not in " ".join(str(o) for o in engine_info.get("SecurityOptions") or []):
        missing.append("a seccomp profile")
    return missing
