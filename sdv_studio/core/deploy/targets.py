"""Turning what a user names (``[USER@]HOST[:PORT]``, a saved device's id, ``local``) into targets.

The CLI's ``--device``, the API's ``devices`` list and the GUI's selection all go through here,
so a device is spelled the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sdv_studio.core.deploy.agent_link.local_target import LOCAL_ID, local_target
from sdv_studio.core.deploy.service import DeviceRef
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.inventory import Inventory
from sdv_studio.core.ssh.target import SshTarget, local_user, parse_address


@dataclass(frozen=True)
class ConnectionDefaults:
    """Options given once for every device (--user, --identity)."""

    user: str | None = None
    key_file: Path | None = None


class UnknownDevice(InvalidInput, ValueError):
    """A device named that is not an address, or the same device named twice; one line each."""


def resolve_device(name: str, defaults: ConnectionDefaults | None = None,
                   inventory: Inventory | None = None) -> DeviceRef:
    defaults = defaults or ConnectionDefaults()
    if name.strip() == LOCAL_ID:
        return DeviceRef(LOCAL_ID, local_target())
    try:
        user, host, port = parse_address(name)
    except ValueError as exc:
        raise UnknownDevice(f"--device {name}: {exc}") from exc
    saved = (inventory or Inventory()).get(host)
    if saved is not None:
        target = saved.target(user=user or defaults.user, key_file=defaults.key_file)
        if port is not None:
            target = SshTarget(target.host, port, target.user, target.key_file)
        return DeviceRef(saved.id, target, advertise=saved.advertise)
    target = SshTarget(host, port or 22, user or defaults.user or local_user(), defaults.key_file)
    return DeviceRef(name.strip(), target)


def resolve_devices(names: Sequence[str], defaults: ConnectionDefaults | None = None,
                    inventory: Inventory | None = None) -> list[DeviceRef]:
    """Every name resolved; UnknownDevice lists every bad one at once."""
    inventory = inventory or Inventory()
    refs, problems = [], []
    for name in names:
        try:
            refs.append(resolve_device(name, defaults, inventory))
        except UnknownDevice as exc:
            problems.append(str(exc))
    if problems:
        raise UnknownDevice(problems)
    seen: dict[str, str] = {}
    for ref in refs:
        if ref.target.label in seen:
            problems.append(f"--device {ref.device_id}: the same device as {seen[ref.target.label]}")
        seen[ref.target.label] = ref.device_id
    if problems:
        raise UnknownDevice(problems)
    return refs
