"""``sdv_agent.py <command> [json | -]``: one JSON document out, exit 0 / 1 (failed) / 2 (bad input)."""

from __future__ import annotations

import json
import sys

from .commands import COMMANDS, handler
from .errors import AgentError, BadRequest
from .layout import Layout
from .progress import want as want_progress

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List


def _arguments(argv: List[str]) -> Dict[str, Any]:
    if len(argv) < 2:
        return {}
    raw = sys.stdin.read() if argv[1] == "-" else argv[1]
    try:
        args = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise BadRequest("arguments are not JSON: %s" % exc) from exc
    if not isinstance(args, dict):
        raise BadRequest("arguments must be a JSON object")
    return args


def _print(doc: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")
    sys.stdout.flush()


def main(argv: List[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        _print({"ok": False, "error": "usage: sdv_agent.py COMMAND [JSON|-]; commands: %s"
                % ", ".join(sorted(COMMANDS))})
        return 2
    command = argv[0]
    try:
        args = _arguments(argv)
        want_progress(bool(args.get("progress")))
        answer = handler(command)(Layout(str(args.get("home") or "")), args)
    except AgentError as exc:
        _print(dict(exc.details, ok=False, command=command, error=str(exc)))
        return exc.exit_code
    except Exception as exc:  # the engine still gets JSON, with the trace for a bug report
        import traceback  # only on this path: every call's start-up time counts on a device

        _print({"ok": False, "command": command, "error": "internal error: %s: %s" % (type(exc).__name__, exc),
                "trace": traceback.format_exc(limit=8)})
        return 1
    if answer is not None:
        _print(dict(answer, ok=True, command=command))
    return 0
