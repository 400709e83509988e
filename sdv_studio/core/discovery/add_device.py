"""Adding a device by hand, the same from every face: probe it, then save it or update the saved one.

The saved device is found by id: the one given, else the id of the device saved at this address,
else the id made from the host name. An update changes only what was given, and the probe logs in
as the saved device does where the entry does not say.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdv_studio.core.defaults import PROBE_TIMEOUT
from sdv_studio.core.discovery.classify import with_facts
from sdv_studio.core.discovery.probe import probe
from sdv_studio.core.inventory import Inventory, SavedDevice, device_id_for
from sdv_studio.core.ssh import HostKeyTrust, SshError, SshTarget
from sdv_studio.core.ssh.target import local_user
from sdv_studio.models.device import DeviceInfo, utc_now
from sdv_studio.paths import user_path

SSH_PORT = 22


@dataclass(frozen=True)
class DeviceEntry:
    """A device as a person gives it; None: not given (a new device gets the usual default)."""

    host: str
    port: int | None = None  # None: 22
    user: str | None = None  # None: the local user name, as ssh does
    key_file: str | None = None
    device_id: str | None = None  # the saved device this is, or the id to save a new one under
    name: str | None = None
    advertise: bool | None = None  # announce it over mDNS after each deploy (None: as saved, else off)


def saved_device(inventory: Inventory, entry: DeviceEntry) -> SavedDevice | None:
    """The saved device ``entry`` is, if any (see the module's docstring); raises InventoryError."""
    devices = inventory.devices()
    if entry.device_id:
        return next((d for d in devices if d.id == entry.device_id), None)
    address = (entry.host, entry.port or SSH_PORT)
    return (next((d for d in devices if (d.host, d.port) == address), None)
            or next((d for d in devices if d.id == device_id_for(entry.host)), None))


def login(entry: DeviceEntry, saved: SavedDevice | None, password: str | None = None) -> SshTarget:
    """Where and as whom to connect: what the entry gives, else what the saved device has."""
    key_file = entry.key_file or (saved.key_file if saved else None)
    return SshTarget(entry.host, entry.port or (saved.port if saved else SSH_PORT),
                     entry.user or (saved.user if saved else None) or local_user(),
                     user_path(key_file) if key_file else None, password)


def save_device(inventory: Inventory, entry: DeviceEntry, found_name: str | None = None,
                **learnt: object) -> tuple[SavedDevice, bool]:
    """Saves ``entry``, or updates the saved device it is; returns the device and whether it is new.
    ``found_name`` names a new device given no name (e.g. its hostname); ``learnt``: other fields to
    set (e.g. last_seen). Raises InventoryError."""
    existing = saved_device(inventory, entry)
    given = {"port": entry.port, "user": entry.user, "key_file": entry.key_file, "name": entry.name,
             "advertise": entry.advertise}
    changes = {"host": entry.host, **{k: v for k, v in given.items() if v is not None}, **learnt}
    if existing is not None:
        return inventory.edit(existing.id, **changes), False
    device_id = entry.device_id or device_id_for(entry.host)
    new = SavedDevice.model_validate({"id": device_id, "name": found_name or device_id, **changes})
    return inventory.add(new), True


async def probe_and_save(entry: DeviceEntry, trust: HostKeyTrust, inventory: Inventory, *,
                         password: str | None = None, remember_password: bool = False,
                         timeout: float = PROBE_TIMEOUT) -> DeviceInfo:
    """Probes the device and, once it answered, saves it (see save_device) and returns it as discovery
    reports devices: assessment, notes and brokers included. Raises the SshError the probe met (then
    nothing is saved) and InventoryError."""
    target = login(entry, saved_device(inventory, entry), password)
    result = await probe(target, trust, timeout)
    if result.facts is None:
        raise result.error or SshError(entry.host, f"{entry.host}: no answer")
    saved, _new = save_device(inventory, entry, result.facts.get("hostname"), last_seen=utc_now())
    if password is not None and remember_password:
        inventory.set_password(saved, password)
    info = DeviceInfo(id=saved.id, name=saved.name, ip=saved.host, port=saved.port, user=target.user,
                      sources=["inventory", "probe"], host_key_fingerprint=result.fingerprint)
    return with_facts(info, result.facts, {}, result.brokers)
