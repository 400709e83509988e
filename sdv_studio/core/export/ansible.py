"""``sdv-studio export ansible``: the same deployment as `sdv-studio deploy`, as an Ansible inventory
and playbook for fleets one workstation does not reach.

The folder written holds ``inventory.yml`` (the devices, with ``known_hosts`` beside it),
``deploy.yml`` (``serial`` from the waves, ``max_fail_percentage`` from --max-failed),
``tasks/agent-call.yml``, ``vars/deployment.yml``, ``vars/credentials.yml`` (the app's databroker
token, mode 0600), ``files/`` (the agent, the package, SDV Studio's databroker and the public key it
verifies tokens with) and ``README.md``. Writing it again replaces an earlier export; any other
non-empty folder is refused.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.service import DeviceRef, package_hot_swap
from sdv_studio.core.deploy.waves import MaxFailed, Reach, wave_sizes
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.export.ansible_credentials import CREDENTIALS, CredentialsInvalid
from sdv_studio.core.export.ansible_files import WiringInvalid, kuksa_variables, payload
from sdv_studio.core.export.ansible_hosts import KNOWN_HOSTS, HostsInvalid, export_hosts
from sdv_studio.core.export.ansible_playbook import AGENT_CALL, AGENT_CALL_TASKS, MARK, PLAYBOOK, VARS, playbook
from sdv_studio.core.export.ansible_readme import readme
from sdv_studio.core.export.output_folder import clear_earlier_export, refused_output
from sdv_studio.core.export.yaml_text import dump
from sdv_studio.core.ssh.known_hosts import KnownHosts

INVENTORY = "inventory.yml"
README = "README.md"
# Everything an export writes at the top of its folder: what is replaced when it is written again.
_WRITTEN = (PLAYBOOK, INVENTORY, KNOWN_HOSTS, README, "tasks", "vars", "files")


class ExportInvalid(InvalidInput):
    """What stops an export before anything is written; one line per problem."""


@dataclass(frozen=True)
class Rollout:
    waves: list[Reach] = field(default_factory=list)  # empty: one wave of every device
    max_failed: MaxFailed = field(default_factory=lambda: MaxFailed(count=0))
    waves_text: str = "100%"  # as the user wrote them, for the playbook's comments


@dataclass(frozen=True)
class AnsibleExport:
    output: Path
    inventory: Path
    playbook: Path
    devices: list[str]
    serial: list[int]
    max_fail_percentage: float
    accepting_new: list[str]  # devices whose host key ssh will trust on first use
    credentials: Path  # vars/credentials.yml: the app's databroker token
    token_expires: datetime | None  # of the token minted for the app
    not_enforced: list[str]  # what the package's data access asks that the devices will not enforce
    note: str | None = None  # where Ansible's failure threshold differs from SDV Studio's


def export_ansible(package: PackageFile, devices: Sequence[DeviceRef], output: Path, options: DeployOptions,
                   rollout: Rollout, *, known_hosts: KnownHosts | None = None,
                   accept_new: bool = False) -> AnsibleExport:
    """Writes the export; ExportInvalid for what the user must change first (CredentialsInvalid: the app's
    token cannot be made), WheelError when SDV Studio's databroker cannot be had for a Python and
    architecture the package targets."""
    problems: list[str] = []
    if package.manifest.get("runtimeMode", "native") != "native":
        problems.append(f"{package.path}: runs in Docker (runtimeMode); the Ansible export deploys through the "
                        "device agent, natively: package it with --runtime native")
    try:
        hosts = export_hosts(devices, known_hosts or KnownHosts(), accept_new=accept_new)
    except HostsInvalid as exc:
        problems += exc.problems
    try:
        kuksa_variables(package.manifest, options.broker)
    except WiringInvalid as exc:
        problems += exc.problems
    if (refusal := refused_output(output, PLAYBOOK, MARK)) is not None:
        problems.append(refusal)
    if problems:
        raise ExportInvalid(problems)

    serial = wave_sizes(rollout.waves, len(devices))
    percentage, note = max_fail_percentage(rollout.max_failed, serial)
    hot_swap = options.hot_swap if options.hot_swap is not None else package_hot_swap(package)
    try:
        shipped = payload(package, options, hot_swap)
    except CredentialsInvalid as exc:
        raise ExportInvalid(exc.problems) from exc
    title = f"{package.name} {package.version} ({package.package_id})"
    texts = {
        INVENTORY: hosts.inventory,
        KNOWN_HOSTS: hosts.known_hosts,
        PLAYBOOK: playbook(title, rollout.waves_text, serial, str(rollout.max_failed), percentage),
        AGENT_CALL: AGENT_CALL_TASKS,
        VARS: f"{MARK}: what this deployment sends and how it runs.\n" + dump(shipped.variables),
        README: readme(title, shipped),
    }
    clear_earlier_export(output, _WRITTEN)
    for name, data in [*((n, t.encode()) for n, t in texts.items()), *shipped.files.items()]:
        path = output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    _write_secret(output / CREDENTIALS, shipped.secrets.encode())
    return AnsibleExport(output, output / INVENTORY, output / PLAYBOOK, [d.device_id for d in devices], serial,
                         percentage, hosts.accepting_new, output / CREDENTIALS, shipped.token_expires,
                         shipped.not_enforced, note)


def _write_secret(path: Path, data: bytes) -> None:
    """Created 0600: the token is never readable by others, not even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(data)


def max_fail_percentage(max_failed: MaxFailed, serial: list[int]) -> tuple[float, str | None]:
    """Ansible's one percentage for every batch, from --max-failed; and a note naming the batches where
    Ansible lets fewer devices fail than --max-failed says: a count is exact for the largest batch
    only, and Ansible stops after a batch whose devices all failed, whatever the percentage."""
    if max_failed.percent is not None:
        percentage = max_failed.percent
    elif not max_failed.count:
        percentage = 0.0
    else:
        # Half-way between count and count + 1 devices of the largest batch: no rounding tips it either way.
        percentage = min(100.0, round(100 * (max_failed.count + 0.5) / max(serial), 2))
    differ = sorted({size for size in serial if _ansible_allows(percentage, size) < _allowed(max_failed, size)})
    if not differ:
        return percentage, None
    return percentage, (f"--max-failed {max_failed}: as max_fail_percentage {percentage:g}, Ansible lets fewer "
                        f"devices fail in batches of {', '.join(map(str, differ))} (and stops after a batch "
                        "whose devices all failed)")


def _allowed(max_failed: MaxFailed, size: int) -> int:
    """How many devices of a wave of ``size`` may fail, as SDV Studio counts --max-failed."""
    if max_failed.percent is not None:
        return math.floor(max_failed.percent * size / 100)
    return min(max_failed.count or 0, size)


def _ansible_allows(percentage: float, size: int) -> int:
    """Ansible stops when more than ``percentage`` of a batch failed, or all of it."""
    return min(math.floor(percentage * size / 100), size - 1)


