"""The small SQL-like language of sdv.databroker.v1 Subscribe, as the Velocitas SDK writes it.

``SELECT Vehicle.Speed``, ``SELECT A, B``, ``SELECT A WHERE A > 50 AND B = 'x'``: the selected
signals are sent whenever one of the selected or condition signals changes and the condition holds.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias  # novermin: for the type checker only

# Keywords stand between whitespace, found by look-arounds: a pattern that starts by matching the
# whitespace itself backtracks over every run of it, which is quadratic in a run's length.
_SELECT = re.compile(r"SELECT\s+", re.I)
_WHERE = re.compile(r"(?<=\s)WHERE(?=\s)", re.I)
_OR = re.compile(r"(?<=\s)OR(?=\s)", re.I)
_AND = re.compile(r"(?<=\s)AND(?=\s)", re.I)
_COMPARISON = re.compile(r"(?P<left>[^\s<>=!]+)\s*(?P<op>>=|<=|!=|<>|==|=|>|<)\s*(?P<right>.+)", re.S)
MAX_QUERY_LENGTH = 64 * 1024
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le,
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, "<>": operator.ne,
}
_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class Comparison:
    left: str
    op: str
    right: Any  # a literal or a path


# An OR of ANDs of comparisons.
Condition: TypeAlias = "list[list[Comparison]]"  # quoted for Python 3.8, as values.Value


@dataclass(frozen=True)
class Query:
    fields: list[str]
    condition: Condition

    @property
    def paths(self) -> set[str]:
        used = set(self.fields)
        for group in self.condition:
            for c in group:
                used.add(c.left)
                if isinstance(c.right, str) and _PATH.match(c.right):
                    used.add(c.right)
        return used

    def holds(self, current: dict[str, Any]) -> bool:
        """current maps a path to its value (None when it has none)."""
        if not self.condition:
            return True
        return any(all(_compare(c, current) for c in group) for group in self.condition)


def _compare(c: Comparison, current: dict[str, Any]) -> bool:
    left = current.get(c.left)
    right = current.get(c.right) if isinstance(c.right, str) and c.right in current else c.right
    if left is None or right is None:
        return False
    try:
        return _OPERATORS[c.op](left, right)
    except TypeError:
        return False


def _literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text)
    except ValueError:
        pass
    if _PATH.match(text):
        return text
    raise QueryError(f"invalid operand {text!r}")


def parse(text: str) -> Query:
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"query: {len(text)} characters, at most {MAX_QUERY_LENGTH}")
    text = text.strip()
    select = _SELECT.match(text)
    if select is None or select.end() == len(text):
        raise QueryError(f"expected SELECT <signals> [WHERE <condition>]: {text!r}")
    rest = text[select.end():]
    where = _WHERE.search(rest)
    signals, condition_text = (rest[:where.start()], rest[where.end():].strip()) if where else (rest, "")
    fields = [field.strip() for field in signals.split(",")]
    if not all(_PATH.match(field) for field in fields):
        raise QueryError(f"invalid signal list: {signals.strip()!r}")
    condition: Condition = []
    for alternative in _OR.split(condition_text) if condition_text else ():
        group = []
        for part in _AND.split(alternative):
            comparison = _COMPARISON.fullmatch(part.strip().strip("()").strip())
            if comparison is None or not _PATH.match(comparison["left"]):
                raise QueryError(f"invalid condition {part.strip()!r}")
            group.append(Comparison(comparison["left"], comparison["op"], _literal(comparison["right"].strip())))
        condition.append(group)
    return Query(fields, condition)
