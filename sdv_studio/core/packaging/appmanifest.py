"""Reading a Velocitas ``AppManifest.json`` in every version the toolchain has written.

- v1: a one-element list (or a dict) with ``Name``, ``VehicleModel``/``vehicle model`` ``{src}`` and
  ``dependencies``;
- v2/v3: ``{"manifestVersion", "name", "interfaces": [...]}``, the VSS catalogue in the
  ``vehicle-signal-interface``'s ``config.src``.

The Velocitas tooling reads manifests with a lenient parser, so projects in the wild carry comments
(``//``, ``/* */``) and trailing commas. They are accepted here too, each with a warning naming
file:line; anything else that is not JSON is reported as ``file:LINE:COL: reason``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sdv_studio.core.errors import InvalidInput

MAX_MANIFEST_BYTES = 1024 * 1024
_ACCEPTED = "(accepted as the Velocitas tooling does)"


class ManifestError(InvalidInput):
    """AppManifest.json cannot be read; one ``file:line:col: reason`` per problem."""


@dataclass
class AppManifest:
    name: str | None = None
    vss_src: str | None = None  # a release URL, a path or a version, as the manifest names it
    notes: list[str] = field(default_factory=list)


def parse_app_manifest(data: bytes, label: str) -> AppManifest:
    """The fields SDV Studio uses from a manifest's bytes; ``label`` names the file in messages."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError([f"{label}: larger than {MAX_MANIFEST_BYTES // 1024}KB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError([f"{label}: not UTF-8 ({exc.reason})"]) from exc
    value, notes = loads_lenient(text, label)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0]  # v1: a one-element list
    if not isinstance(value, dict):
        raise ManifestError([f"{label}: expected an object (or a one-element list of one)"])
    name = value.get("name") or value.get("Name")
    return AppManifest(name=str(name) if name else None, vss_src=_vss_src(value), notes=notes)


def loads_lenient(text: str, label: str) -> tuple[Any, list[str]]:
    """JSON with comments and trailing commas; the notes name each one by file:line."""
    cleaned, notes = _strip_extensions(text, label)
    try:
        return json.loads(cleaned), notes
    except json.JSONDecodeError as exc:
        raise ManifestError([f"{label}:{exc.lineno}:{exc.colno}: {exc.msg}"]) from exc
    except RecursionError as exc:
        raise ManifestError([f"{label}: nested too deep"]) from exc


def _strip_extensions(text: str, label: str) -> tuple[str, list[str]]:
    """``text`` with comments and trailing commas blanked out; lines and columns stay where they were,
    so json's own error positions still point into the user's file."""
    out = list(text)
    notes: list[str] = []
    i, n, in_string, comma = 0, len(text), False, -1

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if out[k] != "\n":
                out[k] = " "

    def line(index: int) -> int:
        return text.count("\n", 0, index) + 1

    while i < n:
        char = text[i]
        if in_string:
            in_string = char != '"'
            i += 2 if char == "\\" else 1
            continue
        if text.startswith("//", i) or text.startswith("/*", i):
            block = text[i + 1] == "*"
            end = text.find("*/", i + 2) + 2 if block else text.find("\n", i)
            if block and end < 2:
                column = i - text.rfind("\n", 0, i)
                raise ManifestError([f"{label}:{line(i)}:{column}: unterminated /* comment"])
            end = n if end < 0 else end
            notes.append(f"{label}:{line(i)}: comment {_ACCEPTED}")
            blank(i, end)
            i = end
            continue
        if char in "}]" and comma >= 0:
            notes.append(f"{label}:{line(comma)}: trailing comma {_ACCEPTED}")
            out[comma] = " "
        if not char.isspace():
            comma = i if char == "," else -1
        in_string = char == '"'
        i += 1
    return "".join(out), notes


def _vss_src(manifest: dict[str, Any]) -> str | None:
    interfaces = manifest.get("interfaces")
    for interface in interfaces if isinstance(interfaces, list) else []:
        if isinstance(interface, dict) and interface.get("type") == "vehicle-signal-interface":
            config = interface.get("config")
            if isinstance(config, dict) and config.get("src"):
                return str(config["src"])
    for holder in (manifest, manifest.get("dependencies")):
        model = _vehicle_model(holder) if isinstance(holder, dict) else None
        if model is not None:
            return model
    return None


def _vehicle_model(holder: dict[str, Any]) -> str | None:
    """v1's ``VehicleModel`` / ``vehicleModel`` / ``vehicle model`` entry's ``src``."""
    for key, value in holder.items():
        if key.replace(" ", "").replace("_", "").lower() == "vehiclemodel" and isinstance(value, dict):
            src = value.get("src")
            return str(src) if src else None
    return None
