"""The VSS signals an app uses, found while packaging: the datapoints its AppManifest declares and
the ``Vehicle.…`` paths its code names (the Velocitas model's attribute chains, the strings
kuksa-client takes), kept where the package's VSS catalogue has them as signals. The package lists
them (manifest.json ``signals``) for a monitor to subscribe to."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from sdv_studio.broker import vss

# Branch and leaf names are capitalised in VSS; a lower-case part is a method (``.set``, ``.get``).
_PATH = re.compile(r"\bVehicle(?:\.[A-Z][A-Za-z0-9_]*)+")


def paths_in_code(sources: Iterable[str]) -> set[str]:
    return {match.group(0) for source in sources for match in _PATH.finditer(source)}


def app_signals(declared: Iterable[str], sources: Iterable[str], catalogue: Path | None) -> list[str]:
    """Sorted. Paths the catalogue lacks as signals (a branch such as ``Vehicle.Cabin.Seat.Row`` of
    ``Row(1)``, a typo) are left out; without a catalogue to check them against, all are kept."""
    found = set(declared) | paths_in_code(sources)
    if catalogue is not None:
        try:
            known = {entry.path for entry in vss.load(catalogue)}
        except vss.VssError:
            known = found  # the build reports an unreadable catalogue itself
        found &= known
    return sorted(found)
