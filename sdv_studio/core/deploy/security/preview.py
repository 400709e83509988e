"""What a package's security settings will ask of every device, said before anything is deployed
(the CLI prints it as a deployment starts; the GUI shows it before the user deploys)."""

from __future__ import annotations

from collections.abc import Mapping

from sdv_studio.core.deploy.security.access import data_access_of
from sdv_studio.core.deploy.security.sandbox import sandbox_of
from sdv_studio.core.deploy.security.signals import SignalsError, declared_signals

_SANDBOX = {
    "basic": "the guide's container profile (non-root, read-only, no capabilities, default seccomp); "
             "native apps run with their limits only",
    "advanced": "as basic, and no network but the databroker's; native apps get NoNewPrivileges and, where "
                "systemd runs, ProtectSystem, PrivateTmp and IPAddressAllow of the broker",
    "military": "as advanced, and a device that cannot enforce all of it, memory and CPU limits included, "
                "is refused",
}


def preview(manifest: Mapping[str, object], entries: Mapping[str, bytes]) -> list[str]:
    """One line per setting: the sandbox, the data access with the signals it allows, the limits."""
    sandbox, access = sandbox_of(manifest), data_access_of(manifest)
    lines = [f"sandbox {sandbox}: {_SANDBOX[sandbox]}"]
    if access == "open":
        lines.append("data access open: the app may use every signal")
    else:
        try:
            allowed = declared_signals(entries).describe()
        except SignalsError as exc:
            allowed = f"cannot be read: {exc}"
        lines.append(f"data access {access}: the app's token allows what it {allowed}; enforced where the "
                     "databroker is SDV Studio's, elsewhere only with a token given for it"
                     + ("; TLS needs the databroker's CA" if access == "encrypted" else ""))
    deployment = manifest.get("deployment")
    limits = deployment.get("resourceLimits") if isinstance(deployment, dict) else None
    if isinstance(limits, dict) and (limits.get("memory") or limits.get("cpu")):
        lines.append(f"limits: memory {limits.get('memory', '-')}, CPU {limits.get('cpu', '-')}; each device "
                     "reports whether it enforced them")
    return lines
