"""Facts about the device for mDNS properties, status and picking wheels."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from . import AGENT_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Dict

_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64", "armv8l": "aarch64"}


def arch() -> str:
    machine = os.uname().machine.lower()  # what platform.machine() reads, without platform's import cost
    return _ARCH_ALIASES.get(machine, machine)


def os_name() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return os.uname().sysname


def device_type() -> str:
    if not os.path.exists("/etc/nv_tegra_release"):
        return "linux"
    # The release file marks a Jetson; only a readable model naming another board says it isn't an Orin.
    model = _device_tree_model().lower()
    return "jetson" if model and "orin" not in model else "jetson-orin"


def _device_tree_model() -> str:
    try:
        with open("/proc/device-tree/model", "rb") as f:
            return f.read().rstrip(b"\0").decode("utf-8", "replace")
    except OSError:
        return ""


def systemd_running() -> bool:
    """systemd is PID 1 (its runtime folder exists only then)."""
    return os.path.isdir("/run/systemd/system") and shutil.which("systemctl") is not None


def systemd_manager_usable() -> bool:
    """We can talk to our own systemd manager: the system one as root, else the user one."""
    if not systemd_running():
        return False
    cmd = ["systemctl", "show-environment"] if os.getuid() == 0 else ["systemctl", "--user", "show-environment"]
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def docker_usable() -> bool:
    return shutil.which("docker") is not None and (
        os.access("/var/run/docker.sock", os.W_OK) or bool(os.environ.get("DOCKER_HOST"))
    )


def runtime() -> str:
    return "both" if docker_usable() else "native"


def properties() -> Dict[str, str]:
    return {
        "agent": AGENT_VERSION,
        "arch": arch(),
        "os": os_name(),
        "python": "%d.%d.%d" % sys.version_info[:3],
        "runtime": runtime(),
        "type": device_type(),
    }
