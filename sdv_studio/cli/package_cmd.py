"""``sdv-studio package``: build a deployable package."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("package", help="build a deployable package")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("package: the app packager is not available in this build yet")
