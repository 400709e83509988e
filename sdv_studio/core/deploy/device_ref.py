"""A deployment target: the id a user sees and where to connect."""

from __future__ import annotations

from dataclasses import dataclass

from sdv_studio.core.ssh.target import SshTarget


@dataclass(frozen=True)
class DeviceRef:
    """A deployment target: the id shown to the user and where to connect."""

    device_id: str
    target: SshTarget
    advertise: bool = False  # the saved device's own choice to be announced over mDNS
