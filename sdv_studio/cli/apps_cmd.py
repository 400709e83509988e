"""``sdv-studio status``: status/stop/start/logs/rollback/uninstall of deployed apps."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="status/stop/start/logs/rollback/uninstall of deployed apps")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("status: app management is not available in this build yet")
