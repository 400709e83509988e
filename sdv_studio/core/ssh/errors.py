"""Typed SSH failures, each with a message a person can act on."""

from __future__ import annotations

from pathlib import Path

from sdv_studio.core.errors import OperationFailed


class SshError(OperationFailed):
    """Base of every failure the SSH layer reports; ``str()`` is the user-facing message."""

    def __init__(self, host: str, message: str) -> None:
        self.host = host
        super().__init__(message)


class HostKeyUnknown(SshError):
    """The device's host key is not in our known_hosts and was not accepted."""

    def __init__(self, host: str, key_type: str, fingerprint: str) -> None:
        self.key_type = key_type
        self.fingerprint = fingerprint
        super().__init__(
            host,
            f"{host}: host key not trusted yet ({key_type} {fingerprint}); check the fingerprint on the device "
            "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and accept it, e.g. with --accept-new-host-keys",
        )


class KnownHostsDamaged(SshError):
    """A line of our known_hosts cannot be read: nothing is trusted or added until it is fixed,
    so a damaged entry can never turn a known device into an unknown one."""

    def __init__(self, host: str, path: Path, line: int, reason: str) -> None:
        super().__init__(host, f"{path}:{line}: not a valid known_hosts line ({reason}); fix or remove that line")


class HostKeyChanged(SshError):
    """The device presents a different key from the one we trusted: always refused."""

    def __init__(self, host: str, old: str, new: str, known_hosts: Path) -> None:
        self.old = old
        self.new = new
        self.known_hosts = known_hosts
        super().__init__(
            host,
            f"{host}: HOST KEY CHANGED, connection refused: we trusted {old}, the device now presents {new}. "
            "Someone may be intercepting the connection, or the device was re-installed; if you know it was, "
            f"remove its line from {known_hosts} and connect again to trust the new key",
        )


class AuthFailed(SshError):
    def __init__(self, host: str, user: str, tried: list[str]) -> None:
        self.user = user
        self.tried = tried
        how = ", ".join(tried) if tried else "no key file, agent key or stored password"
        super().__init__(
            host,
            f"{user}@{host}: authentication refused (tried {how}); add your public key to "
            f"~{user}/.ssh/authorized_keys on the device, pass --identity, or store a password with "
            "`sdv-studio devices add --ask-password`",
        )


class Unreachable(SshError):
    def __init__(self, host: str, port: int, reason: str) -> None:
        self.port = port
        super().__init__(host, f"{host}:{port}: cannot connect ({reason}); is the device on and SSH running?")


class Timeout(SshError):
    def __init__(self, host: str, stage: str, seconds: float) -> None:
        self.stage = stage
        self.seconds = seconds
        super().__init__(host, f"{host}: {stage} took longer than {seconds:g}s; the device or network is too slow")


class CommandTimeout(Timeout):
    """A remote command ran past its time limit (the connection itself was fine)."""


class KeyFileError(SshError):
    """The private key file given for a device cannot be used."""

    def __init__(self, host: str, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(host, f"{host}: key file {path}: {reason}")
