"""The device options every command that talks to devices spells the same way (docs/interface.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from sdv_studio.core.defaults import DEVICE_TIMEOUT
from sdv_studio.core.deploy import DeviceRef
from sdv_studio.core.deploy.targets import ConnectionDefaults, resolve_devices
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.ssh.trust import Confirm, HostKeyOffer, HostKeyTrust
from sdv_studio.paths import user_path


def add_device_options(parser: argparse.ArgumentParser, *, device_required: bool = False) -> None:
    parser.add_argument(
        "--device",
        "-d",
        action="append",
        default=[],
        required=device_required,
        metavar="[USER@]HOST[:PORT]",
        help="a device address, a saved device's id, or tag:NAME for every saved device with that tag "
        "(repeatable)",
    )
    add_connection_options(parser)


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", "-u", help="SSH login user (default: the device's saved user)")
    parser.add_argument("--identity", "-i", metavar="KEYFILE", help="SSH private key file")
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="trust a device's host key on first use; a changed key is always refused",
    )
    parser.add_argument("--timeout", type=float, default=DEVICE_TIMEOUT, metavar="S", help="per-device time limit")
    add_json_option(parser)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout; progress goes to stderr"
    )


def connection_defaults(args: argparse.Namespace) -> ConnectionDefaults:
    key = user_path(args.identity) if getattr(args, "identity", None) else None
    if key is not None and not key.is_file():
        raise InvalidInput(f"--identity: no such file: {args.identity}")
    return ConnectionDefaults(user=getattr(args, "user", None), key_file=key)


def host_key_trust(args: argparse.Namespace) -> HostKeyTrust:
    """Our known_hosts; --accept-new-host-keys trusts first-seen keys; on a terminal we ask instead.
    A changed key is refused either way."""
    interactive = sys.stdin.isatty() and sys.stderr.isatty() and not getattr(args, "json", False)
    return HostKeyTrust(accept_new=bool(getattr(args, "accept_new_host_keys", False)),
                        confirm=_terminal_prompt() if interactive else None)


def _terminal_prompt() -> Confirm:
    lock: asyncio.Lock | None = None  # made on first use, inside the event loop that asks

    async def ask(offer: HostKeyOffer) -> bool:
        nonlocal lock
        lock = lock or asyncio.Lock()
        async with lock:  # one question at a time when many devices connect at once
            return await _ask_on_terminal(offer)

    return ask


async def _ask_on_terminal(offer: HostKeyOffer) -> bool:
    prompt = (f"\n{offer.host} presents an unknown host key:\n  {offer.key_type} {offer.fingerprint}\n"
              "Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the device.\n"
              "Trust it and remember it? [y/N] ")
    answer = await asyncio.to_thread(_read_answer, prompt)
    return answer.strip().lower() in ("y", "yes")


def _read_answer(prompt: str) -> str:
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline()


def resolve_or_exit(args: argparse.Namespace) -> list[DeviceRef]:
    if not args.device:
        raise InvalidInput("--device: name at least one device ([USER@]HOST[:PORT], a saved id, tag:NAME, or 'local')")
    return resolve_devices(args.device, connection_defaults(args))
