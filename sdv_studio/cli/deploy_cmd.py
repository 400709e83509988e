"""``sdv-studio deploy``: deploy a package to one or many devices in parallel."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("deploy", help="deploy a package to one or many devices in parallel")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("deploy: the deployment engine is not available in this build yet")
