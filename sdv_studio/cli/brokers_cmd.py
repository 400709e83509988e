"""``sdv-studio brokers``: detect KUKSA databrokers and MQTT brokers."""

from __future__ import annotations

import argparse

from sdv_studio.cli.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("brokers", help="detect KUKSA databrokers and MQTT brokers")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise CliError("brokers: broker detection is not available in this build yet")
