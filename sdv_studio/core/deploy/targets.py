"""Turning what a user names (``[USER@]HOST[:PORT]``, a saved device's id, ``tag:NAME``, ``local``) into targets.

The CLI's ``--device``, the API's ``devices`` list and the GUI's selection all go through here,
so a device is spelled the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sdv_studio.core.deploy.agent_link.local_target import LOCAL_ID, local_target
from sdv_studio.core.deploy.device_ref import DeviceRef
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.inventory import Inventory
from sdv_studio.core.ssh.target import SshTarget, local_user, parse_address

TAG_PREFIX = "tag:"


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


def resolve_tag(name: str, defaults: ConnectionDefaults | None = None,
                inventory: Inventory | None = None) -> list[DeviceRef]:
    """``tag:NAME``: every saved device with that tag, in the inventory's order."""
    inventory = inventory or Inventory()
    tag = name.strip().removeprefix(TAG_PREFIX)
    tagged = inventory.tagged(tag)
    if not tagged:
        raise UnknownDevice(f"--device {name.strip()}: no saved device has the tag {tag!r}")
    return [resolve_device(device.id, defaults, inventory) for device in tagged]


def resolve_devices(names: Sequence[str], defaults: ConnectionDefaults | None = None,
                    inventory: Inventory | None = None) -> list[DeviceRef]:
    """Every name resolved, in order; UnknownDevice lists every bad one at once. A device named
    twice is an error, unless a tag brought it (tags of a campaign overlap: it is taken once)."""
    inventory = inventory or Inventory()
    named: list[tuple[DeviceRef, bool]] = []  # with whether a tag named it
    problems = []
    for name in names:
        by_tag = name.strip().startswith(TAG_PREFIX)
        try:
            found = resolve_tag(name, defaults, inventory) if by_tag else [resolve_device(name, defaults, inventory)]
        except UnknownDevice as exc:
            problems.append(str(exc))
            continue
        named += [(ref, by_tag) for ref in found]
    if problems:
        raise UnknownDevice(problems)
    refs: list[DeviceRef] = []
    seen: dict[str, tuple[str, bool]] = {}
    for ref, by_tag in named:
        first = seen.get(ref.target.label)
        if first is None:
            seen[ref.target.label] = (ref.device_id, by_tag)
            refs.append(ref)
        elif not (by_tag or first[1]):
            problems.append(f"--device {ref.device_id}: the same device as {first[0]}")
    if problems:
        raise UnknownDevice(problems)
    return refs
