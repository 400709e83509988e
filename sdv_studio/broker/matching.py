"""KUKSA path patterns: a leaf path, a branch (everything below it), ``*`` (one level), ``**`` (any)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import Pattern

from sdv_studio.broker.vss import Entry

_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]+$")


def is_valid(pattern: str) -> bool:
    segments = pattern.split(".")
    return bool(pattern) and all(s in ("*", "**") or _SEGMENT.match(s) for s in segments)


def compile_pattern(pattern: str) -> Pattern[str]:
    """Raises ValueError for an invalid pattern."""
    if not is_valid(pattern):
        raise ValueError(f"invalid path pattern: {pattern!r}")
    parts = []
    for segment in pattern.split("."):
        if segment == "**":
            parts.append(r"[^.]+(?:\.[^.]+)*")
        elif segment == "*":
            parts.append(r"[^.]+")
        else:
            parts.append(re.escape(segment))
    # A pattern that names a branch stands for everything below it.
    return re.compile(r"\.".join(parts) + r"(?:\.[^.]+)*\Z")


def select(pattern: str, entries: Iterable[Entry]) -> list[Entry]:
    regex = compile_pattern(pattern)
    return [entry for entry in entries if regex.match(entry.path)]
