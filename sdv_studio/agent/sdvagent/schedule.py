"""When a staged release may start: an idle condition on VSS signals (``Vehicle.Speed == 0``,
comparisons joined by ``and``) or a daily time window in the device's local time (``02:00-04:00``,
which may cross midnight). Parsed the same way on the workstation (to refuse a bad one before
anything is sent) and on the device (to decide)."""

from __future__ import annotations

import re

from .errors import BadRequest

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Tuple, Union

    Operand = Union[bool, float, str]

OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_PATH = re.compile(r"Vehicle(\.[A-Za-z0-9_]+)+")
_COMPARISON = re.compile(r"\s*(?P<path>\S+?)\s*(?P<op>==|!=|<=|>=|<|>)\s*(?P<value>.*?)\s*")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_AND = re.compile(r"\s+and\s+")
MAX_COMPARISONS = 8


class Comparison:
    def __init__(self, path: str, op: str, value: Operand) -> None:
        self.path, self.op, self.value = path, op, value

    def holds(self, seen: Any) -> bool:
        """Whether the signal's current value ``seen`` satisfies it; never for a value of another kind."""
        if isinstance(self.value, bool) or isinstance(seen, bool):
            if not (isinstance(self.value, bool) and isinstance(seen, bool)):
                return False
        elif isinstance(self.value, float) != isinstance(seen, (int, float)):
            return False
        if self.op == "==":
            return bool(seen == self.value)
        if self.op == "!=":
            return bool(seen != self.value)
        if isinstance(self.value, (bool, str)):  # ordering only means something for numbers
            return False
        if self.op == "<":
            return bool(seen < self.value)
        if self.op == "<=":
            return bool(seen <= self.value)
        if self.op == ">":
            return bool(seen > self.value)
        return bool(seen >= self.value)

    def __repr__(self) -> str:
        return "%s %s %s" % (self.path, self.op, _show(self.value))


def _show(value: Operand) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "%g" % value
    return '"%s"' % value


def _literal(text: str, field: str, path: str) -> Operand:
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.fullmatch(text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    raise BadRequest("%s: %s: the value to compare with must be a number, true, false or a quoted string, got %r"
                     % (field, path, text))


def parse_condition(text: Any, field: str = "idle") -> List[Comparison]:
    """``PATH OP VALUE [and PATH OP VALUE]…``; BadRequest naming ``field`` and the part that is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("%s: must be a condition such as \"Vehicle.Speed == 0\"" % field)
    parts = _AND.split(text.strip())
    if len(parts) > MAX_COMPARISONS:
        raise BadRequest("%s: at most %d comparisons joined by and" % (field, MAX_COMPARISONS))
    found = []
    for part in parts:
        match = _COMPARISON.fullmatch(part)
        if not match or not match.group("value"):
            raise BadRequest("%s: %r: expected PATH OP VALUE with OP one of %s, e.g. Vehicle.Speed == 0"
                             % (field, part, ", ".join(OPERATORS)))
        path = match.group("path")
        if not _PATH.fullmatch(path):
            raise BadRequest("%s: %s: not a VSS signal path (Vehicle.Branch.Signal)" % (field, path))
        value = _literal(match.group("value"), field, path)
        if match.group("op") not in ("==", "!=") and not isinstance(value, float):
            raise BadRequest("%s: %s: %s compares numbers only" % (field, path, match.group("op")))
        found.append(Comparison(path, match.group("op"), value))
    return found


def condition_paths(comparisons: List[Comparison]) -> List[str]:
    return sorted({c.path for c in comparisons})


def condition_holds(comparisons: List[Comparison], values: Dict[str, Any]) -> bool:
    """Every comparison holds for the values read (a signal with no value yet holds nothing)."""
    return all(c.path in values and values[c.path] is not None and c.holds(values[c.path]) for c in comparisons)


def parse_window(text: Any, field: str = "at") -> Tuple[int, int]:
    """``HH:MM-HH:MM`` as (start, end) minutes of the day; the end is exclusive and may be past midnight."""
    match = _WINDOW.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise BadRequest("%s: must be a time window HH:MM-HH:MM, e.g. 02:00-04:00" % field)
    hour1, minute1, hour2, minute2 = (int(g) for g in match.groups())
    if hour1 > 23 or hour2 > 23 or minute1 > 59 or minute2 > 59:
        raise BadRequest("%s: %s: hours go from 00 to 23 and minutes from 00 to 59" % (field, text.strip()))
    start, end = hour1 * 60 + minute1, hour2 * 60 + minute2
    if start == end:
        raise BadRequest("%s: %s: the window starts and ends at the same time" % (field, text.strip()))
    return start, end


def in_window(window: Tuple[int, int], minute_of_day: int) -> bool:
    start, end = window
    if start < end:
        return start <= minute_of_day < end
    return minute_of_day >= start or minute_of_day < end  # crosses midnight


def show_window(window: Tuple[int, int]) -> str:
    return "%02d:%02d-%02d:%02d" % (window[0] // 60, window[0] % 60, window[1] // 60, window[1] % 60)


def parse_when(when: Any) -> Dict[str, Any]:
    """The ``when`` of a stage request, checked and normalised: ``{"idle": CONDITION}`` or
    ``{"window": "HH:MM-HH:MM"}``."""
    if not isinstance(when, dict) or len([k for k in ("idle", "window") if k in when]) != 1:
        raise BadRequest("when: give exactly one of idle (a VSS condition) or window (HH:MM-HH:MM)")
    if "idle" in when:
        comparisons = parse_condition(when["idle"], "when.idle")
        return {"idle": " and ".join(repr(c) for c in comparisons)}
    return {"window": show_window(parse_window(when["window"], "when.window"))}
