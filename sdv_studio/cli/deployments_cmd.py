"""``sdv-studio deployments``: deployment history and one deployment's detail."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("deployments", help="deployment history and one deployment's detail")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("deployments: deployment records is not available in this build yet")
