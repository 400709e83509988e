"""Exit codes, and the one translation of an expected failure into lines on stderr and a code.

Commands raise core's vocabulary (``core.errors``) and never print their own errors: invalid input
exits 2, a failure 1, with the failure's lines on stderr and no traceback.
"""

from __future__ import annotations

import sys

from sdv_studio.core.errors import InvalidInput, Problems

EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed
EXIT_INVALID = 2  # invalid input: one line per problem on stderr


def report(exc: Problems) -> int:
    """Prints the problems on stderr; the exit code for them."""
    for line in exc.problems:
        print(line, file=sys.stderr)
    return EXIT_INVALID if isinstance(exc, InvalidInput) else EXIT_FAILED


def report_os_error(exc: OSError) -> int:
    """A file or folder the system refused (no such home, a name too long, a full disk): the
    system's reason and the path are what the user can act on."""
    where = f"{exc.filename}: " if exc.filename else ""
    print(f"{where}{exc.strerror or exc}", file=sys.stderr)
    return EXIT_FAILED
