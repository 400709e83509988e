"""The shared SSH layer: device connection parameters, host-key trust, an async API over paramiko.

    async with connect(SshTarget("198.18.0.11", user="sdv", key_file=key), HostKeyTrust()) as conn:
        result = await conn.run("uname -m")
"""

from sdv_studio.core.ssh.connection import CommandResult, SshConnection, connect, open_connection
from sdv_studio.core.ssh.errors import (
    AuthFailed,
    CommandTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    KeyFileError,
    SshError,
    Timeout,
    Unreachable,
)
from sdv_studio.core.ssh.known_hosts import KnownHosts, fingerprint
from sdv_studio.core.ssh.secrets import delete_password, load_password, store_password
from sdv_studio.core.ssh.sftp import AsyncSftp
from sdv_studio.core.ssh.target import SshTarget, parse_address
from sdv_studio.core.ssh.trust import Confirm, HostKeyOffer, HostKeyTrust

__all__ = [
    "AsyncSftp",
    "AuthFailed",
    "CommandResult",
    "CommandTimeout",
    "Confirm",
    "HostKeyChanged",
    "HostKeyOffer",
    "HostKeyTrust",
    "HostKeyUnknown",
    "KeyFileError",
    "KnownHosts",
    "SshConnection",
    "SshError",
    "SshTarget",
    "Timeout",
    "Unreachable",
    "connect",
    "delete_password",
    "fingerprint",
    "load_password",
    "open_connection",
    "parse_address",
    "store_password",
]
