"""The signals an app reads and writes: what a ``restricted`` databroker token allows it.

Declared in the app's Velocitas ``AppManifest.json`` (``interfaces[].config.datapoints.required``,
``{path, access: read|write}``) when the package holds one with datapoints; otherwise the ``Vehicle.…``
paths its code names, in strings (kuksa-client) or as attribute chains (a Velocitas model:
``self.Vehicle.Cabin.Seat.Row(1).Pos(1).Position.set``), each read and written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.packaging.appmanifest import ManifestError, loads_lenient

MANIFEST_ENTRY = "app/AppManifest.json"
# A VSS path as code names it: capitalised segments; a Velocitas instance ``Row(1)`` stands for ``Row1``.
_CODE_PATH = re.compile(r"\b[Vv]ehicle((?:\.[A-Z][A-Za-z0-9_]*(?:\(\d+\))?)+)")
_INSTANCE = re.compile(r"\((\d+)\)")
_PATH = re.compile(r"Vehicle(\.[A-Za-z0-9_]+)+")


class SignalsError(InvalidInput):
    """The manifest's datapoints cannot be read; the line names file and field."""

    summary = "invalid package"


@dataclass(frozen=True)
class SignalScope:
    reads: frozenset[str]
    writes: frozenset[str]
    source: str  # where the signals were found, for the result: "app/AppManifest.json", "the code"

    def claim(self) -> str:
        """The token's ``scope``: read for every signal, provide and actuate for the written ones
        (KUKSA: provide sets a current value, actuate a target; either implies read)."""
        items = [f"read:{path}" for path in sorted(self.reads - self.writes)]
        for path in sorted(self.writes):
            items += [f"provide:{path}", f"actuate:{path}"]
        return " ".join(items)

    def describe(self) -> str:
        reads = sorted(self.reads - self.writes)
        parts = [f"writes {', '.join(sorted(self.writes))}" if self.writes else "",
                 f"reads {', '.join(reads)}" if reads else ""]
        said = "; ".join(p for p in parts if p) or "no signals"
        return f"{said} (from {self.source})"


def declared_signals(entries: Mapping[str, bytes], code_files: Mapping[str, bytes] | None = None) -> SignalScope:
    """The scope from the package's entries (``app/…``); ``code_files`` overrides where code is scanned."""
    if MANIFEST_ENTRY in entries:
        declared = _manifest_datapoints(entries[MANIFEST_ENTRY], MANIFEST_ENTRY)
        if declared is not None:
            return declared
    files = code_files if code_files is not None else {
        name: data for name, data in entries.items() if name.startswith("app/") and name.endswith(".py")}
    paths = frozenset().union(*(code_paths(data.decode("utf-8", errors="replace")) for data in files.values()))
    return SignalScope(reads=paths, writes=paths, source="the Vehicle paths in the code")


def code_paths(source: str) -> set[str]:
    return {"Vehicle" + _INSTANCE.sub(r"\1", match.group(1)) for match in _CODE_PATH.finditer(source)}


def _manifest_datapoints(data: bytes, label: str) -> SignalScope | None:
    """None when the manifest declares no datapoints (then the code is scanned)."""
    try:
        manifest, _notes = loads_lenient(data.decode("utf-8-sig", errors="replace"), label)
    except ManifestError as exc:
        raise SignalsError("; ".join(exc.problems)) from exc
    if isinstance(manifest, list) and manifest:
        manifest = manifest[0]
    if not isinstance(manifest, dict):
        return None
    reads: set[str] = set()
    writes: set[str] = set()
    found = False
    for index, interface in enumerate(manifest.get("interfaces") or []):
        config = interface.get("config") if isinstance(interface, dict) else None
        datapoints = config.get("datapoints") if isinstance(config, dict) else None
        required = datapoints.get("required") if isinstance(datapoints, dict) else None
        if not isinstance(required, list):
            continue
        found = True
        for position, point in enumerate(required):
            where = f"{label}: interfaces[{index}].config.datapoints.required[{position}]"
            path = point.get("path") if isinstance(point, dict) else None
            access = point.get("access", "read") if isinstance(point, dict) else None
            if not isinstance(path, str) or not _PATH.fullmatch(path):
                raise SignalsError(f"{where}.path: must be a VSS path like Vehicle.Speed, got {path!r}")
            if access not in ("read", "write"):
                raise SignalsError(f"{where}.access: must be read or write, got {access!r}")
            (writes if access == "write" else reads).add(path)
    if not found:
        return None
    return SignalScope(reads=frozenset(reads | writes), writes=frozenset(writes), source=label)
