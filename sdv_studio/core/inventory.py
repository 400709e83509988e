"""The saved device inventory: a JSON file in the data folder; passwords only in the OS keyring."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from pydantic import Field, ValidationError

from sdv_studio import paths
from sdv_studio.core.errors import InvalidInput, NotFound, Problems, Unavailable
from sdv_studio.core.ssh.secrets import delete_password, load_password, store_password
from sdv_studio.core.ssh.target import SshTarget, local_user
from sdv_studio.models.base import CamelModel
from sdv_studio.models.device import utc_now
from sdv_studio.paths import user_path

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_TAG = _ID  # a tag is spelled like an id: it follows ``tag:`` on command lines and in API requests
_lock = threading.Lock()


class InventoryError(Problems, ValueError):
    """The inventory cannot do what was asked; the message says why."""


class InventoryUnreadable(InventoryError, Unavailable):
    """The inventory file cannot be read or is not an inventory: nothing saved can be used until it is fixed."""

    summary = "the device inventory cannot be read"


class InventoryRefused(InventoryError, InvalidInput):
    """A change the inventory refuses: an id that is malformed or taken, a malformed tag, or removing a
    tag the device does not have."""


class DeviceNotSaved(InventoryError, NotFound):
    """No saved device has the id given."""


class SavedDevice(CamelModel):
    id: str
    name: str
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    user: str | None = None  # None: the local user name, as ssh does
    key_file: str | None = None
    added_at: datetime = Field(default_factory=utc_now)
    last_seen: datetime | None = None  # the last scan that reached it
    advertise: bool = False  # announce it over mDNS after each deploy (opt-in)
    tags: list[str] = Field(default_factory=list)  # the groups it is in: ``--device tag:NAME`` names them all

    def target(self, *, user: str | None = None, key_file: Path | None = None) -> SshTarget:
        """Connection parameters; explicit ``user``/``key_file`` (command-line options) win over saved ones."""
        key = key_file or (user_path(self.key_file) if self.key_file else None)
        return SshTarget(self.host, self.port, user or self.user or local_user(), key)


def check_tags(tags: Iterable[str]) -> list[str]:
    """The tags, each once, sorted; InventoryRefused naming a tag that is spelled wrong."""
    tags = list(tags)
    bad = [t for t in tags if not _TAG.match(t)]
    if bad:
        raise InventoryRefused([f"tag {t!r}: must be lowercase letters, digits, '.', '_' or '-'" for t in bad])
    return sorted(set(tags))


def device_id_for(host: str) -> str:
    """A readable id from a host name or address: ``jetson.local`` → ``jetson-local``."""
    return re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-") or "device"


class Inventory:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.data_dir() / "devices.json"

    def devices(self) -> list[SavedDevice]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            listed = raw.get("devices", [])
            if not isinstance(listed, list):
                raise ValueError("`devices` must be a list")
            return [SavedDevice.model_validate(d) for d in listed]
        except (ValueError, ValidationError, AttributeError) as exc:
            raise InventoryUnreadable(f"{self.path}: not a device inventory ({exc}); fix or remove the file") from exc
        except OSError as exc:
            raise InventoryUnreadable(f"{self.path}: cannot be read ({exc.strerror})") from exc

    def get(self, ref: str) -> SavedDevice | None:
        """By id, else by host (``[user@]host[:port]`` callers pass the host part)."""
        devices = self.devices()
        return next((d for d in devices if d.id == ref), None) or next((d for d in devices if d.host == ref), None)

    def tagged(self, tag: str) -> list[SavedDevice]:
        """The devices with this tag, in the inventory's order."""
        return [d for d in self.devices() if tag in d.tags]

    def add(self, device: SavedDevice) -> SavedDevice:
        if not _ID.match(device.id):
            raise InventoryRefused(f"id {device.id!r}: must be lowercase letters, digits, '.', '_' or '-'")
        device = device.model_copy(update={"tags": check_tags(device.tags)})
        with _lock:
            devices = self.devices()
            if any(d.id == device.id for d in devices):
                raise InventoryRefused(f"id {device.id!r}: already saved; remove it first or edit it")
            self._write([*devices, device])
        return device

    def edit(self, device_id: str, **changes: object) -> SavedDevice:
        """Change saved fields (snake_case names); a stored password follows a new user/host/port."""
        with _lock:
            devices = self.devices()
            old = next((d for d in devices if d.id == device_id), None)
            if old is None:
                raise DeviceNotSaved(f"{device_id}: no saved device with this id")
            new = SavedDevice.model_validate({**old.model_dump(), **changes})
            new = new.model_copy(update={"tags": check_tags(new.tags)})
            self._write([new if d.id == device_id else d for d in devices])
        old_account, new_account = _account(old), _account(new)
        if old_account != new_account and (password := load_password(*old_account)) is not None:
            store_password(*new_account, password)
            delete_password(*old_account)
        return new

    def retag(self, ref: str, add: Sequence[str] = (), remove: Sequence[str] = ()) -> SavedDevice:
        """Adds and removes tags of the device saved under this id (or host); removing one it lacks
        is refused, as a misspelt tag would otherwise go unnoticed."""
        device = self.get(ref)
        if device is None:
            raise DeviceNotSaved(f"{ref}: no saved device with this id")
        if lacking := [t for t in remove if t not in device.tags]:
            raise InventoryRefused([f"tag {t!r}: {device.id} does not have it" for t in lacking])
        return self.edit(device.id, tags=[t for t in [*device.tags, *check_tags(add)] if t not in remove])

    def remove(self, device_id: str) -> SavedDevice:
        with _lock:
            devices = self.devices()
            gone = next((d for d in devices if d.id == device_id), None)
            if gone is None:
                raise DeviceNotSaved(f"{device_id}: no saved device with this id")
            self._write([d for d in devices if d.id != device_id])
        delete_password(*_account(gone))
        return gone

    def set_password(self, device: SavedDevice, password: str) -> None:
        """Into the OS keyring (KeyringError when there is none); never into our file."""
        store_password(*_account(device), password)

    def has_password(self, device: SavedDevice) -> bool:
        return load_password(*_account(device)) is not None

    def _write(self, devices: list[SavedDevice]) -> None:
        data = {"version": 1, "devices": [d.to_json_dict() for d in devices]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)  # readers never see half a file


def _account(device: SavedDevice) -> tuple[str, str, int]:
    return device.user or local_user(), device.host, device.port
