"""The device options every command that talks to devices spells the same way (CONTRACT.md)."""

from __future__ import annotations

import argparse


def add_device_options(parser: argparse.ArgumentParser, *, device_required: bool = False) -> None:
    parser.add_argument(
        "--device",
        "-d",
        action="append",
        default=[],
        required=device_required,
        metavar="[USER@]HOST[:PORT]",
        help="a device address or a saved device's id (repeatable)",
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
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per-device time limit")
    add_json_option(parser)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout; progress goes to stderr"
    )
