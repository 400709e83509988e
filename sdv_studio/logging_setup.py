"""Logging is configured once, by the entry point; library code only calls getLogger.

The desktop app also keeps a rotating log file (``paths.log_file()``), so a traceback is still
there after the window that showed its message has closed.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

LOG_BYTES = 1024 * 1024  # then rotated: the newest 1 MB and three older files
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(verbose: int = 0) -> None:
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    env_level = os.environ.get("SDV_STUDIO_LOG")
    if env_level:
        level = getattr(logging, env_level.upper(), level)
    logging.basicConfig(level=level, format=_FORMAT, datefmt="%H:%M:%S")
    # paramiko logs every transport event at INFO; keep it quiet unless debugging.
    if level > logging.DEBUG:
        logging.getLogger("paramiko").setLevel(logging.WARNING)


def log_to_file(path: Path) -> None:
    """Adds a rotating log file to the root logger (once per path). Records at the root logger's
    level and above go there: warnings, and errors with their tracebacks, by default."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                   encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
