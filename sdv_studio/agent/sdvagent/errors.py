"""Errors a command reports as JSON instead of a traceback."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, Optional


class AgentError(Exception):
    """The operation ran and failed (exit code 1); ``details`` are merged into the JSON answer."""

    exit_code = 1

    def __init__(self, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.details = details or {}


class BadRequest(AgentError):
    """Invalid input (exit code 2)."""

    exit_code = 2
