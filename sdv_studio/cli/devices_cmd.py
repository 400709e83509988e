"""``sdv-studio devices``: the saved device inventory (list/add/remove, tag/untag)."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sdv_studio.cli.device_options import add_json_option
from sdv_studio.core.errors import InvalidInput, OperationFailed
from sdv_studio.paths import user_path

if TYPE_CHECKING:  # the core loads only when the command runs
    from sdv_studio.core.inventory import Inventory, SavedDevice


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("devices", help="the saved device inventory (list/add/remove, tag/untag)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="show saved devices")
    add_json_option(listing)

    add = actions.add_parser(
        "add", help="save a device, or change a saved one",
        description="Save a device for deploys and scans. With the id of a saved device, or the address of one, "
        "changes the options given. "
        "Passwords are never options: --ask-password prompts for one and keeps it in the OS keyring.",
    )
    add.add_argument("address", metavar="[USER@]HOST[:PORT]")
    add.add_argument("--id", help="the name to use with --device (default: from HOST)")
    add.add_argument("--name", help="a display name (default: the id)")
    add.add_argument("--port", type=int, help="SSH port (default 22)")
    add.add_argument("--user", "-u", help="SSH login user (default: your local user name)")
    add.add_argument("--identity", "-i", metavar="KEYFILE", help="SSH private key file")
    add.add_argument("--advertise", action=argparse.BooleanOptionalAction, default=None,
                     help="announce the device over mDNS after each deploy (default: no)")
    add.add_argument("--ask-password", action="store_true", help="prompt for the SSH password; kept in the OS keyring")
    add.add_argument("--tag", action="append", default=[], metavar="TAG",
                     help="put the device in a group that `--device tag:TAG` names (repeatable)")
    add_json_option(add)

    remove = actions.add_parser("remove", help="forget a saved device (and its stored password)")
    remove.add_argument("id")

    for action, verb in (("tag", "add tags to"), ("untag", "remove tags from")):
        tagging = actions.add_parser(action, help=f"{verb} a saved device")
        tagging.add_argument("id", help="the saved device's id (or host)")
        tagging.add_argument("tags", nargs="+", metavar="TAG")
        add_json_option(tagging)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sdv_studio.core.inventory import Inventory

    if args.action is None:
        raise InvalidInput("devices: say list, add, remove, tag or untag (sdv-studio devices --help)")
    inventory = Inventory()
    if args.action == "list":
        return _list(inventory, args)
    if args.action == "add":
        return _add(inventory, args)
    if args.action in ("tag", "untag"):
        return _retag(inventory, args)
    gone = inventory.remove(args.id)
    print(f"removed {gone.id} ({gone.host})")
    return 0


def _list(inventory: Inventory, args: argparse.Namespace) -> int:
    devices = inventory.devices()
    if args.json:
        out = [{**d.to_json_dict(), "hasPassword": inventory.has_password(d)} for d in devices]
        print(json.dumps({"devices": out}, indent=2))
        return 0
    rows = [("ID", "NAME", "ADDRESS", "USER", "KEY", "PASSWORD", "TAGS", "LAST SEEN")]
    for d in devices:
        seen = d.last_seen.isoformat() if d.last_seen else "never"
        rows.append((d.id, d.name, f"{d.host}:{d.port}", d.user or "-", d.key_file or "-",
                     "keyring" if inventory.has_password(d) else "-", ",".join(d.tags) or "-", seen))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _add(inventory: Inventory, args: argparse.Namespace) -> int:
    from keyring.errors import KeyringError

    from sdv_studio.core.discovery.add_device import DeviceEntry, save_device
    from sdv_studio.core.inventory import check_tags
    from sdv_studio.core.ssh import parse_address

    problems = []
    try:
        check_tags(args.tag)
    except InvalidInput as exc:
        problems += exc.problems
    user, host, port = parse_address(args.address)
    port = args.port or port
    if port is not None and not 0 < port < 65536:
        problems.append(f"--port {port}: must be 1-65535")
    key_file = str(user_path(args.identity).resolve()) if args.identity else None
    if key_file and not Path(key_file).is_file():
        problems.append(f"--identity {args.identity}: no such file")
    if problems:
        raise InvalidInput(problems)
    entry = DeviceEntry(host, port, args.user or user, key_file, args.id, args.name, args.advertise)
    device, new = save_device(inventory, entry)
    verb = "saved" if new else "updated"
    if args.tag:
        device = inventory.retag(device.id, add=args.tag)
    if args.ask_password:
        try:
            password = getpass.getpass(f"password for {device.user or 'you'}@{device.host}: ")
        except EOFError:
            raise InvalidInput("--ask-password: no password given (standard input is closed)") from None
        try:
            inventory.set_password(device, password)
        except KeyringError as exc:
            raise OperationFailed(f"no OS keyring to keep the password in ({exc}); "
                                  "use a key file (--identity)") from exc
    _print_device(inventory, device, args, f"{verb} {device.id} ({device.host}:{device.port})")
    return 0


def _retag(inventory: Inventory, args: argparse.Namespace) -> int:
    if args.action == "tag":
        device = inventory.retag(args.id, add=args.tags)
    else:
        device = inventory.retag(args.id, remove=args.tags)
    _print_device(inventory, device, args, f"{device.id}: tags {', '.join(device.tags) or '(none)'}")
    return 0


def _print_device(inventory: Inventory, device: SavedDevice, args: argparse.Namespace, line: str) -> None:
    if args.json:
        print(json.dumps({**device.to_json_dict(), "hasPassword": inventory.has_password(device)}, indent=2))
    else:
        print(line)
