"""The ``sdv-studio`` command line: one module per command, all over sdv_studio.core."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sdv_studio import __version__
from sdv_studio.cli import commands
from sdv_studio.cli.errors import EXIT_INVALID, report, report_os_error
from sdv_studio.core.errors import Problems
from sdv_studio.core.handoff.links import is_link
from sdv_studio.logging_setup import configure_logging

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdv-studio",
        description="Package Python vehicle apps and deploy them to SDV devices.",
        epilog="Without a command: the desktop app; `sdv-studio sdv-studio://open?…` opens such a link in it.",
    )
    parser.add_argument("--version", action="version", version=f"sdv-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    parser.add_argument("--self-test", action="store_true",
                        help="open the desktop window, show every page, close it and exit 0 (installers' smoke test)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in commands.MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    # `sdv-studio sdv-studio://open?…`: how desktops run the link handler (the .desktop file's `%u`).
    link = arguments.pop() if arguments and is_link(arguments[-1]) else None
    args = parser.parse_args(arguments)
    if link and args.command:
        parser.error("an sdv-studio:// link opens the desktop app: give it without a command")
    configure_logging(args.verbose)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            from sdv_studio.cli.gui_cmd import open_gui

            return open_gui(args, link)
        return int(handler(args) or 0)
    except Problems as exc:
        return report(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        return report_os_error(exc)


__all__ = ["EXIT_INVALID", "build_parser", "main"]
