"""Capability probe: one SSH connection, one shell script fed on stdin, ``key=value`` lines back.

The script is POSIX sh and reads only what the login user can see, so ``docker`` means *this*
user can reach an engine. It goes in on stdin (``sh -s``) so its text never appears in the
process list, where a process search for the databroker would find the script itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sdv_studio.core.defaults import PROBE_TIMEOUT
from sdv_studio.core.deploy.agent_link.local_target import LocalConnection
from sdv_studio.core.kuksa.listening import LISTENING_COMMAND, parse_listening
from sdv_studio.core.kuksa.on_device import DeviceShell, detect_on_device
from sdv_studio.core.ssh import HostKeyTrust, SshError, SshTarget, connect
from sdv_studio.models.broker import KuksaBrokerInfo

PROBE_SCRIPT = r"""
export LC_ALL=C
kv() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' ' ')"; }
tmo() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }
kv arch "$(uname -m)"
kv kernel "$(uname -r)"
kv hostname "$(hostname 2>/dev/null || uname -n)"
kv user "$(id -un)"
[ -r /etc/os-release ] && kv os "$(. /etc/os-release; echo "${PRETTY_NAME:-$NAME}")"
if command -v python3 >/dev/null 2>&1; then
  python3 - <<'PY' 2>/dev/null
import sys
print("python=%d.%d.%d" % sys.version_info[:3])
try:
    import venv, ensurepip
    print("venv=1")
except ImportError:
    print("venv=0")
PY
fi
sock=/var/run/docker.sock
[ -S "$sock" ] && kv docker_socket "$( [ -w "$sock" ] && echo writable || echo denied)"
if command -v docker >/dev/null 2>&1; then
  kv docker_cli 1
  if out=$(tmo 5 docker info --format '{{.ServerVersion}}' 2>&1); then
    kv docker_version "$out"
    kv containers "$(tmo 5 docker ps --format '{{.Image}} {{.Names}}' 2>/dev/null | grep -ci '[k]uksa')"
  else
    kv docker_error "$(printf '%s' "$out" | grep -v '^$' | tail -n 1)"
  fi
fi
kv listening "$(LISTENING_COMMAND)"
kv mem_kb "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
d="$HOME/.local/share"
while [ ! -d "$d" ]; do d=$(dirname "$d"); done
kv disk_free_kb "$(df -Pk "$d" 2>/dev/null | awk 'NR == 2 {print $4}')"
command -v nvidia-smi >/dev/null 2>&1 && kv nvidia_smi "$(tmo 5 nvidia-smi -L 2>/dev/null | head -n 1)"
[ -e /etc/nv_tegra_release ] && kv tegra "$(head -n 1 /etc/nv_tegra_release)"
[ -r /proc/device-tree/model ] && kv model "$(tr -d '\000' < /proc/device-tree/model)"
kv end 1
""".replace("LISTENING_COMMAND", LISTENING_COMMAND)
# Brokers on the device are classified within this, after the facts, on the same connection.
BROKER_TIMEOUT = 5.0


@dataclass(frozen=True)
class ProbeResult:
    ip: str
    facts: dict[str, str] | None  # None when the probe did not get through
    fingerprint: str | None = None  # host key, when the connection got that far
    error: SshError | None = None
    brokers: list[KuksaBrokerInfo] = field(default_factory=list)  # what answers on its listening ports


def parse_facts(text: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            facts[key] = value.strip()
    return facts


async def probe(target: SshTarget, trust: HostKeyTrust, timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    """Everything within ``timeout`` (a person confirming a host key aside); never raises SshError."""
    try:
        async with connect(target, trust, timeout=min(timeout, 5.0)) as conn:
            return await probe_over(conn, target.host, timeout, conn.host_key_fingerprint)
    except SshError as exc:
        return ProbeResult(target.host, None, None, exc)


async def probe_local(timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    """This computer, by the same script and broker detection as a device, without SSH."""
    return await probe_over(LocalConnection(), "127.0.0.1", timeout)


async def probe_over(conn: DeviceShell, host: str, timeout: float, fp: str | None = None) -> ProbeResult:
    try:
        result = await conn.run("sh -s", stdin=PROBE_SCRIPT.encode(), timeout=timeout)
    except SshError as exc:
        return ProbeResult(host, None, fp, exc)
    facts = parse_facts(result.stdout)
    if "end" not in facts:
        detail = (result.stderr.strip().splitlines() or [f"exit status {result.exit_status}"])[-1]
        return ProbeResult(host, None, fp, SshError(host, f"{host}: probe script failed: {detail}"))
    listening = parse_listening(facts.get("listening", ""))
    brokers = await detect_on_device(conn, host, listening, host_timeout=min(timeout, BROKER_TIMEOUT))
    return ProbeResult(host, facts, fp, brokers=brokers)
