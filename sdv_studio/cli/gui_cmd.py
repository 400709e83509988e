"""``sdv-studio`` with no command opens the desktop wizard."""

from __future__ import annotations

import argparse

from sdv_studio.core.errors import OperationFailed


def open_gui(args: argparse.Namespace, link: str | None = None) -> int:
    """The wizard; with ``link`` (``sdv-studio://open?…``), that prototype offered at Configure."""
    try:
        from sdv_studio.gui.app import run_app
        from sdv_studio.gui.self_test import run_self_test
    except ImportError as exc:  # Qt libraries missing on a headless box
        raise OperationFailed(
            [f"cannot start the desktop app: {exc}", "the command line works without it: sdv-studio --help"]
        ) from exc
    return run_self_test() if args.self_test else run_app(link)
