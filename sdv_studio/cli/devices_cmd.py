"""``sdv-studio devices``: the saved device inventory (list/add/remove)."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("devices", help="the saved device inventory (list/add/remove)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("devices: the device inventory is not available in this build yet")
