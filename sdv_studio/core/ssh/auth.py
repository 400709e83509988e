"""Blocking authentication on an open transport: keys first, then a password (given or from the keyring)."""

from __future__ import annotations

import os
from pathlib import Path

import paramiko

from sdv_studio.core.ssh.errors import AuthFailed, KeyFileError
from sdv_studio.core.ssh.secrets import load_password
from sdv_studio.core.ssh.target import SshTarget

_DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


def _load_key(host: str, path: Path) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError as exc:
        raise KeyFileError(host, path, "no such file") from exc
    except paramiko.PasswordRequiredException as exc:
        raise KeyFileError(host, path, "is passphrase-protected; load it into ssh-agent instead") from exc
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise KeyFileError(host, path, f"not a usable private key ({exc})") from exc


def _candidate_keys(target: SshTarget) -> list[tuple[str, paramiko.PKey]]:
    """An explicit key file only; otherwise what OpenSSH would try: the agent, then ~/.ssh defaults."""
    if target.key_file is not None:
        return [(str(target.key_file), _load_key(target.host, target.key_file))]
    keys: list[tuple[str, paramiko.PKey]] = []
    if os.environ.get("SSH_AUTH_SOCK"):
        keys += [(f"agent key {k.get_name()}", k) for k in paramiko.Agent().get_keys()]
    for name in _DEFAULT_KEYS:
        path = Path.home() / ".ssh" / name
        if path.exists():
            try:
                keys.append((str(path), _load_key(target.host, path)))
            except KeyFileError:
                continue  # a default key we cannot read is not the user's choice: skip it like ssh does
    return keys


def authenticate(transport: paramiko.Transport, target: SshTarget) -> None:
    """Raise AuthFailed (naming what was tried) unless one method is accepted."""
    tried: list[str] = []
    for label, key in _candidate_keys(target):
        try:
            transport.auth_publickey(target.user, key)
            return
        except paramiko.AuthenticationException:
            tried.append(f"key {label}")
    password = target.password
    if password is None and target.use_keyring:
        password = load_password(target.user, target.host, target.port)
    if password is not None:
        try:
            transport.auth_password(target.user, password)
            return
        except paramiko.AuthenticationException:
            tried.append("password")
    raise AuthFailed(target.host, target.user, tried)
