"""``entrypoint.py <command> [json | -]``: one JSON document out, exit 0 / 1 (failed) / 2 (bad input);
``entrypoint.py session``: many commands, one JSON line each way."""

from __future__ import annotations

import json
import sys

from .commands import COMMANDS, handler
from .errors import AgentError, BadRequest
from .layout import Layout
from .progress import want as want_progress

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional, Tuple


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


def run(command: str, args: Dict[str, Any]) -> Tuple[Optional[Dict[str, Any]], int]:
    """One command's answer document (None: it printed its own output) and exit code."""
    try:
        want_progress(bool(args.get("progress")))
        answer = handler(command)(Layout(str(args.get("home") or "")), args)
    except AgentError as exc:
        return dict(exc.details, ok=False, command=command, error=str(exc)), exc.exit_code
    except Exception as exc:  # the engine still gets JSON, with the trace for a bug report
        import traceback  # only on this path: every call's start-up time counts on a device

        return {"ok": False, "command": command, "error": "internal error: %s: %s" % (type(exc).__name__, exc),
                "trace": traceback.format_exc(limit=8)}, 1
    return (None if answer is None else dict(answer, ok=True, command=command)), 0


def main(argv: List[str]) -> int:
    if argv and argv[0] == "session":
        return session()
    if not argv or argv[0] not in COMMANDS:
        _print({"ok": False, "error": "usage: entrypoint.py COMMAND [JSON|-]; commands: %s"
                % ", ".join(sorted([*COMMANDS, "session"]))})
        return 2
    try:
        args = _arguments(argv)
    except BadRequest as exc:
        _print({"ok": False, "command": argv[0], "error": str(exc)})
        return exc.exit_code
    answer, code = run(argv[0], args)
    if answer is not None:
        _print(answer)
    return code


# Commands a session cannot run: they never return, or take the process over.
_NOT_IN_SESSION = ("supervise", "watch-staged")


def session(first: bytes = b"") -> int:
    """``session``: requests ``{"command", "args"}``, one JSON line each on stdin (``first`` before
    them, when given), each answered on stdout by its progress lines and then its answer line, until
    stdin ends. One interpreter serves a whole deployment's calls over one SSH channel: a call costs
    a line, not a process start (tens of ms of CPU on a small board)."""
    line = first or sys.stdin.buffer.readline()
    while line:
        if line.strip():
            answer = _session_answer(line)
            try:
                _print(answer)
            except OSError:  # the workstation is gone (connection cut): nobody to answer
                return 1
            if answer.get("sessionEnds"):  # the input is out of step (a transfer cut short)
                return 1
        line = sys.stdin.buffer.readline()
    return 0


def _session_answer(line: bytes) -> Dict[str, Any]:
    try:
        request = json.loads(line.decode("utf-8"))
    except ValueError as exc:
        return {"ok": False, "error": "a session request must be one JSON line: %s" % exc}
    command = request.get("command") if isinstance(request, dict) else None
    args = request.get("args") if isinstance(request, dict) else None
    if command not in COMMANDS or command in _NOT_IN_SESSION or not isinstance(args, (dict, type(None))):
        return {"ok": False, "command": command, "error": "a session request is {\"command\": one of %s, "
                "\"args\": {...}}" % ", ".join(sorted(set(COMMANDS) - set(_NOT_IN_SESSION)))}
    answer, _code = run(command, args or {})
    return answer if answer is not None else {"ok": True, "command": command}
