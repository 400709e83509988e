"""``sdv-studio serve``: serve the local REST API."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="serve the local REST API")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("serve: the REST API is not available in this build yet")
