"""Progress lines a long command prints before its answer, for a caller that asks (``"progress": true``).

Each is one JSON object on its own stdout line, ``{"progress": STEP, ...}``; the answer is always
the last line, so a caller that reads only the last line needs to know nothing of them.
"""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any

_wanted = False


def want(on: bool) -> None:
    global _wanted
    _wanted = on


def report(step: str, **details: Any) -> None:
    """Best effort: a caller that is gone (its connection cut) stops the reports, not the work, which
    goes on to the end it would have had (a new release healthy, or the one before running again)."""
    if _wanted:
        try:
            sys.stdout.write(json.dumps(dict(details, progress=step), sort_keys=True) + "\n")
            sys.stdout.flush()
        except OSError:
            want(False)
