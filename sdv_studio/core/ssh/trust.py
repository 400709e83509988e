"""Host-key policy: known keys pass, unknown keys need consent, changed keys never pass."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import paramiko

from sdv_studio.core.ssh.errors import HostKeyChanged, HostKeyUnknown
from sdv_studio.core.ssh.known_hosts import KnownHosts, fingerprint


@dataclass(frozen=True)
class HostKeyOffer:
    """What a person is asked to confirm: the GUI shows it, the CLI prints it."""

    host: str  # known_hosts name: host or [host]:port
    key_type: str
    fingerprint: str


Confirm = Callable[[HostKeyOffer], Awaitable[bool]]


class HostKeyTrust:
    """``accept_new`` trusts first-seen keys (OpenSSH's accept-new); ``confirm`` asks someone.
    Neither: unknown keys are refused. A key that differs from a trusted one is always refused."""

    def __init__(self, known_hosts: KnownHosts | None = None, *, accept_new: bool = False,
                 confirm: Confirm | None = None) -> None:
        self.known_hosts = known_hosts or KnownHosts()
        self.accept_new = accept_new
        self.confirm = confirm

    def preferred_key_types(self, name: str) -> list[str]:
        """Key types we already trust for ``name``: ask the server for those first."""
        return list(self.known_hosts.lookup(name))

    async def verify(self, name: str, key: paramiko.PKey) -> None:
        """Return when ``key`` may be used for ``name``; raise HostKeyChanged/HostKeyUnknown otherwise."""
        trusted = self.known_hosts.lookup(name)
        if trusted:
            if trusted.get(key.get_name()) == key:
                return
            old = trusted.get(key.get_name()) or next(iter(trusted.values()))
            raise HostKeyChanged(name, fingerprint(old), fingerprint(key), self.known_hosts.path)
        offer = HostKeyOffer(name, key.get_name(), fingerprint(key))
        if self.accept_new or (self.confirm is not None and await self.confirm(offer)):
            self.known_hosts.add(name, key)
            return
        raise HostKeyUnknown(name, offer.key_type, offer.fingerprint)
