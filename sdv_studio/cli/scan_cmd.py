"""``sdv-studio scan``: discover devices: mDNS, IP sweep and SSH capability probe."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("scan", help="discover devices: mDNS, IP sweep and SSH capability probe")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("scan: device discovery is not available in this build yet")
