"""Sandboxing a native app (sandbox level ``advanced`` or ``military``; docs/security.md).

Where a systemd manager we may use runs, the app runs as a transient *service* (a scope cannot
take exec settings) with the properties below, systemd-run waiting for it with the app's output on
its own (``--wait --pipe``), so the supervisor keeps supervising a process; stopping the instance
stops the unit. Elsewhere only NoNewPrivileges can be had (prctl, before exec), and the report
names each property that was not applied and why.
"""

from __future__ import annotations

import os
import socket

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Callable, Dict, List, Optional

# Exec settings, each applied only by a service.
SERVICE_ONLY = ("ProtectSystem=full", "PrivateTmp=yes")
PR_SET_NO_NEW_PRIVS = 38
_LOOPBACK = ("127.0.0.0/8", "::1/128")


def allowed_addresses(*endpoints: str) -> List[str]:
    """Loopback (the fallback databroker, the agent's health probe) and the addresses of the
    endpoints (``host:port``: the databroker, the MQTT broker)."""
    found = list(_LOOPBACK)
    for endpoint in endpoints:
        host = endpoint.rpartition(":")[0].strip("[]") or "127.0.0.1"
        try:
            infos = socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            continue  # not resolvable here: the app cannot reach it either
        for info in infos:
            address = str(info[4][0])
            if address not in found and not address.startswith("127.") and address != "::1":
                found.append(address)
    return found


def properties(allow: List[str]) -> List[str]:
    return ["NoNewPrivileges=yes", *SERVICE_ONLY, "IPAddressDeny=any", "IPAddressAllow=" + " ".join(allow)]


def _quoted(value: str) -> str:
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_env_file(path: str, env: Dict[str, str]) -> None:
    """The app's variables for the service (EnvironmentFile=): not on systemd-run's command line,
    where any user could read a token with ps."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for key, value in sorted(env.items()):
            f.write("%s=%s\n" % (key, _quoted(value)))


def service_prefix(unit: str, props: List[str], cwd: str, env_file: str) -> List[str]:
    prefix = ["systemd-run", "--quiet", "--collect", "--wait", "--pipe", "--unit", unit]
    if os.getuid() != 0:
        prefix.insert(1, "--user")
    for prop in [*props, "WorkingDirectory=" + cwd, "EnvironmentFile=" + env_file]:
        prefix += ["-p", prop]
    return [*prefix, "--"]


def stop_argv(unit: str) -> List[str]:
    return ["systemctl", *(["--user"] if os.getuid() != 0 else []), "stop", unit + ".service"]


def no_new_privileges() -> Optional[Callable[[], None]]:
    """A pre-exec hook setting no_new_privs (Linux 3.5+, where it cannot fail), or None where
    prctl cannot be reached."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl  # looked up before the fork, not in the child
    except (OSError, AttributeError):
        return None

    def apply() -> None:
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)

    return apply


def report(applied: List[str], why_not: str) -> Dict[str, Any]:
    """What the sandbox applied, and each property it did not with ``why_not``."""
    wanted = ["NoNewPrivileges", "ProtectSystem", "PrivateTmp", "IPAddressAllow"]
    names = [p.split("=", 1)[0] for p in applied]
    return {"applied": applied, "notApplied": ["%s: %s" % (w, why_not) for w in wanted if w not in names]}
