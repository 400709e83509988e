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

_SELECT = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)(?:\s+WHERE\s+(?P<where>.+?))?\s*$", re.I | re.S)
_COMPARISON = re.compile(r"^\s*(?P<left>\S+?)\s*(?P<op>>=|<=|!=|<>|==|=|>|<)\s*(?P<right>.+?)\s*$")
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
    match = _SELECT.match(text)
    if match is None:
        raise QueryError(f"expected SELECT <signals> [WHERE <condition>]: {text!r}")
    fields = [field.strip() for field in match["fields"].split(",")]
    if not all(_PATH.match(field) for field in fields):
        raise QueryError(f"invalid signal list: {match['fields']!r}")
    condition: Condition = []
    if match["where"]:
        for alternative in re.split(r"\s+OR\s+", match["where"], flags=re.I):
            group = []
            for part in re.split(r"\s+AND\s+", alternative, flags=re.I):
                comparison = _COMPARISON.match(part.strip().strip("()"))
                if comparison is None or not _PATH.match(comparison["left"]):
                    raise QueryError(f"invalid condition {part.strip()!r}")
                group.append(Comparison(comparison["left"], comparison["op"], _literal(comparison["right"])))
            condition.append(group)
    return Query(fields, condition)
