"""Logging is configured once, by the entry point; library code only calls getLogger.

The desktop app also keeps a rotating log file in the log folder (``paths.log_dir()``), so a
traceback is still there after the window that showed its message has closed.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from sdv_studio import paths

LOG_NAME = "sdv-studio.log"
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


def log_file() -> Path:
    """The file the desktop app logs to (the current one; older ones end in .1, .2, .3)."""
    return paths.log_dir() / LOG_NAME


def log_to_file() -> Path:
    """Adds the rotating log file to the root logger (once) and returns its path. Records at the
    root logger's level and above go there: warnings and errors with their tracebacks by default."""
    path = log_file()
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                   encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    return path
