"""Device passwords live in the OS keyring only, never in a file of ours."""

from __future__ import annotations

import logging

import keyring
from keyring.errors import KeyringError

log = logging.getLogger(__name__)
SERVICE = "sdv-studio"


def _account(user: str, host: str, port: int) -> str:
    return f"ssh://{user}@{host}:{port}"


def store_password(user: str, host: str, port: int, password: str) -> None:
    """Raises KeyringError when no keyring is usable: the caller tells the user."""
    keyring.set_password(SERVICE, _account(user, host, port), password)


def load_password(user: str, host: str, port: int) -> str | None:
    try:
        return keyring.get_password(SERVICE, _account(user, host, port))
    except KeyringError as exc:  # no backend (headless box): behave as "no password stored"
        log.info("keyring unavailable: %s", exc)
        return None


def delete_password(user: str, host: str, port: int) -> None:
    try:
        keyring.delete_password(SERVICE, _account(user, host, port))
    except KeyringError:
        log.debug("no stored password for %s@%s:%s", user, host, port)
