"""Where and as whom to connect: the connection parameters of one device."""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field
from pathlib import Path

_ADDRESS = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^@:\s\[\]]+)(?::(?P<port>\d{1,5}))?$")


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
    """``[USER@]HOST[:PORT]`` → (user, host, port); ValueError with the reason when malformed."""
    match = _ADDRESS.match(text.strip())
    if not match:
        raise ValueError(f"{text!r}: expected [USER@]HOST[:PORT]")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"{text!r}: port must be 1-65535")
    return match["user"], match["host"].strip("[]"), port
