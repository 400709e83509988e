"""Logging is configured once, by the entry point; library code only calls getLogger."""

from __future__ import annotations

import logging
import os


def configure_logging(verbose: int = 0) -> None:
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    env_level = os.environ.get("SDV_STUDIO_LOG")
    if env_level:
        level = getattr(logging, env_level.upper(), level)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # paramiko logs every transport event at INFO; keep it quiet unless debugging.
    if level > logging.DEBUG:
        logging.getLogger("paramiko").setLevel(logging.WARNING)
