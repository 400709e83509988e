"""``sdv-studio broker``: run the embedded fallback databroker in the foreground."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("broker", help="run the embedded fallback databroker in the foreground")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("broker: the embedded databroker is not available in this build yet")
