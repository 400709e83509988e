"""Where and as whom to connect: the connection parameters of one device."""

from __future__ import annotations

import getpass
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from sdv_studio.core.errors import InvalidInput

_ADDRESS = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^@:\s\[\]]+)(?::(?P<port>\d{1,5}))?$")
# RFC 1123 host names (underscores tolerated, as resolvers do): checked here so a name no resolver
# takes is invalid input, not a failure deep in the resolver's encoder.
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
HOST_MAX = 253


class AddressError(InvalidInput, ValueError):
    """Not ``[USER@]HOST[:PORT]``: the line names the text and says why."""


def local_user() -> str:
    return getpass.getuser()


@dataclass(frozen=True)
class SshTarget:
    host: str
    port: int = 22
    user: str = field(default_factory=local_user)
    key_file: Path | None = None
    # Held in memory only; the inventory keeps passwords in the OS keyring (core.ssh.secrets).
    password: str | None = field(default=None, repr=False)
    use_keyring: bool = True  # look up a stored password when keys are refused

    @property
    def known_hosts_name(self) -> str:
        """The host's name in known_hosts, OpenSSH style: ``[host]:port`` off port 22."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host}" + ("" if self.port == 22 else f":{self.port}")


def parse_address(text: str) -> tuple[str | None, str, int | None]:
    """``[USER@]HOST[:PORT]`` → (user, host, port); AddressError with the reason when malformed."""
    match = _ADDRESS.match(text.strip())
    if not match:
        raise AddressError(f"{text!r}: expected [USER@]HOST[:PORT]")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise AddressError(f"{text!r}: port must be 1-65535")
    host = match["host"].strip("[]")
    if not valid_host(host):
        raise AddressError(f"{text[:80]!r}: not a host name or address (labels of 1-63 letters, digits "
                           f"or hyphens, {HOST_MAX} characters in all)")
    return match["user"], host, port


def valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host.removesuffix(".")
    return 0 < len(name) <= HOST_MAX and all(_LABEL.fullmatch(label) for label in name.split("."))
