"""Load a VSS catalogue (the JSON that vss-tools exports) into the broker's signal entries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdv_studio.broker import values

ENTRY_TYPES = ("sensor", "actuator", "attribute")


class VssError(ValueError):
    """The catalogue cannot be loaded; the message names the file and the node."""


@dataclass
class Entry:
    """One signal: its metadata from VSS plus the broker-assigned numeric id."""

    id: int
    path: str
    entry_type: str  # sensor | actuator | attribute
    datatype: str  # VSS spelling: float, uint8, string[], …
    description: str = ""
    comment: str = ""
    deprecation: str = ""
    unit: str = ""
    min: Any = None
    max: Any = None
    allowed: list[Any] | None = None
    default: Any = None
    kind: str = field(init=False)  # the protobuf oneof the value travels in

    def __post_init__(self) -> None:
        self.kind = values.kind_of(self.datatype)


def load(path: str | Path) -> list[Entry]:
    """Entries in catalogue order; ids count from 1 in that order."""
    path = Path(path)
    try:
        tree = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VssError(f"{path}: {exc}") from exc
    if not isinstance(tree, dict) or not tree:
        raise VssError(f"{path}: not a VSS JSON tree")
    entries: list[Entry] = []
    _walk(tree, "", entries, path)
    if not entries:
        raise VssError(f"{path}: no signals found")
    return entries


def _walk(nodes: dict[str, Any], prefix: str, out: list[Entry], source: Path) -> None:
    for name, node in nodes.items():
        node_path = f"{prefix}.{name}" if prefix else name
        if not isinstance(node, dict):
            raise VssError(f"{source}: {node_path}: node is not an object")
        node_type = node.get("type")
        if node_type == "branch":
            _walk(node.get("children") or {}, node_path, out, source)
        elif node_type in ENTRY_TYPES:
            out.append(_entry(len(out) + 1, node_path, node, source))
        # struct and property nodes describe struct types, which this broker does not serve


def _entry(entry_id: int, path: str, node: dict[str, Any], source: Path) -> Entry:
    datatype = node.get("datatype")
    if datatype not in values.DATATYPES:
        raise VssError(f"{source}: {path}: unsupported datatype {datatype!r}")
    entry = Entry(
        id=entry_id,
        path=path,
        entry_type=node["type"],
        datatype=datatype,
        description=str(node.get("description", "")),
        comment=str(node.get("comment", "")),
        deprecation=str(node.get("deprecation", "")),
        unit=str(node.get("unit", "")),
        min=node.get("min"),
        max=node.get("max"),
        allowed=list(node["allowed"]) if isinstance(node.get("allowed"), list) else None,
    )
    if "default" in node:
        entry.default = values.coerce_json(datatype, node["default"])
    return entry
