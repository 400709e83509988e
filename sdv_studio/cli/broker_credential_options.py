"""``--broker-token-file`` and ``--broker-ca``: what a user gives for an app's databroker, read and
checked the same way by `deploy` and `export ansible`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sdv_studio.models.broker_credentials import check_ca, check_token

T = TypeVar("T")


def add_broker_credential_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker-token-file", metavar="FILE", type=Path,
                        help="a JWT the app presents to its databroker (for one that is not SDV Studio's; "
                        "SDV Studio's own gets a token scoped to the app's signals)")
    parser.add_argument("--broker-ca", metavar="FILE", type=Path,
                        help="PEM of the CA the databroker's TLS certificate chains to: the app connects with TLS")


def broker_credentials(args: argparse.Namespace, problems: list[str]) -> tuple[str | None, bytes | None]:
    """The token and CA given, checked; each problem, naming the option and file, into ``problems``."""
    token = _given(args.broker_token_file, "--broker-token-file", lambda data: check_token(data.decode()), problems)
    return token, _given(args.broker_ca, "--broker-ca", check_ca, problems)


def _given(path: Path | None, option: str, check: Callable[[bytes], T], problems: list[str]) -> T | None:
    """A file's content passed through ``check``."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(f"{option}: {path}: {exc.strerror or exc}")
        return None
    try:
        return check(data)
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{option}: {path}: {exc}")
        return None
