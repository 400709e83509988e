"""Writing YAML for Ansible without a YAML library: block mappings and sequences whose keys and
scalars are JSON (a JSON string is a YAML double-quoted scalar, a JSON number or boolean a YAML one)."""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Words YAML 1.1 (PyYAML, so Ansible) reads as booleans or null even as keys.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def dump(value: Any, indent: int = 0) -> str:
    """``value`` (dicts, lists, str, int, float, bool, None) as a YAML document, ending in a newline."""
    return "".join(f"{line}\n" for line in _lines(value, indent))


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict) and value:
        lines = []
        for key, item in value.items():
            if _is_block(item):
                lines += [f"{pad}{_key(key)}:", *_lines(item, indent + 2)]
            else:
                lines.append(f"{pad}{_key(key)}: {_scalar(item)}")
        return lines
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            if _is_block(item):
                first, *rest = _lines(item, indent + 2)
                lines += [f"{pad}- {first.lstrip()}", *rest]
            else:
                lines.append(f"{pad}- {_scalar(item)}")
        return lines
    return [f"{pad}{_scalar(value)}"]


def _key(key: object) -> str:
    text = str(key)
    return text if _PLAIN_KEY.match(text) and text.lower() not in _RESERVED else json.dumps(text, ensure_ascii=False)


def _is_block(value: Any) -> bool:
    return isinstance(value, dict | list) and bool(value)


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list):  # only empty ones get here
        return "{}" if isinstance(value, dict) else "[]"
    if value is None:
        return "null"
    if isinstance(value, bool | int | float | str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"not a YAML scalar: {value!r}")
