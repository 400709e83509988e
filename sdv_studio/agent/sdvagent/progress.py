"""Progress lines a long command prints before its answer, for a caller that asks (``"progress": true``).

Each is one JSON object on its own stdout line, ``{"progress": STEP, ...}``; the answer is always
the last line, so a caller that reads only the last line needs to know nothing of them. A caller
that asked for them and went away (a cancelled deployment closes its session) is noticed:
``caller_gone`` says so, and reporting stops instead of failing the command half-way.
"""

from __future__ import annotations

import json
import select
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any

_asked = False  # the caller asked for progress lines
_lost = False  # ... and stopped reading them


def want(on: bool) -> None:
    global _asked, _lost
    _asked, _lost = on, False


def report(step: str, **details: Any) -> None:
    global _lost
    if _asked and not _lost:
        try:
            sys.stdout.write(json.dumps(dict(details, progress=step), sort_keys=True) + "\n")
            sys.stdout.flush()
        except OSError:  # nobody reads any more: the command still finishes what it started
            _lost = True


def caller_gone() -> bool:
    """The caller that asked for progress has closed its end: its session's stdin is at its end or
    its stdout has no reader. Never true for a caller that did not ask (a one-off command)."""
    if not _asked:
        return False
    if _lost:
        return True
    watch = select.poll()
    hangup = select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)
    try:
        watch.register(sys.stdin.fileno(), select.POLLIN | getattr(select, "POLLRDHUP", 0))
        watch.register(sys.stdout.fileno(), 0)  # POLLERR/POLLHUP are always reported
    except (OSError, ValueError):  # no real file behind them: nothing to watch
        return False
    return any(events & hangup for _fd, events in watch.poll(0))
