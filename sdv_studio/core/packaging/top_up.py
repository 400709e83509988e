"""Adding wheel sets to a stored package for devices whose (Python, arch) it lacks.

The Deploy step calls this when a chosen device needs a combination the package was not built
for: only that combination is resolved (through the wheel cache), its files are added beside the
others, and the result is stored as a new package (its own id, same name and version).
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from sdv_studio.core.errors import OperationFailed
from sdv_studio.core.packaging.archive import MANIFEST, SUMS, Entry
from sdv_studio.core.packaging.builder import BuildResult, store_archive, wheel_entries, wheel_sets
from sdv_studio.core.packaging.flavour import Flavour
from sdv_studio.core.packaging.store import PackageStore
from sdv_studio.core.packaging.wheels import (
    Combination,
    FleetWheels,
    Resolution,
    WheelError,
    marker_pins,
    vendor_fleet,
)

Progress = Callable[[str], None]
_ARCH_NAMES = {"arm64": "aarch64", "amd64": "x86_64"}  # what some OSes call them; packages say these


class TopUpError(OperationFailed):
    """The package cannot be given the wheels it lacks; the message says what to do instead."""


def missing_combinations(manifest: dict[str, Any], devices: Iterable[tuple[str, str]]) -> list[Combination]:
    """The (Python, arch) of these devices (python as the device reports it, e.g. ``3.9.2``) that
    the package has no record for. One it tried and could not resolve is not tried again."""
    sets = manifest.get("wheelSets")
    if not isinstance(sets, dict) or not sets:
        return []  # no requirements (nothing depends on the Python), or format 1
    missing: list[Combination] = []
    for python, arch in devices:
        parts = python.split(".")
        if len(parts) < 2 or not arch:
            continue  # not known yet: the compatibility stage asks the device
        combination = Combination(".".join(parts[:2]), _ARCH_NAMES.get(arch, arch))
        if combination.key not in sets and combination not in missing:
            missing.append(combination)
    return missing


def top_up(package_id: str, combinations: list[Combination], store: PackageStore | None = None,
           progress: Progress = lambda _: None) -> BuildResult:
    """The stored package with wheel sets added for ``combinations``, stored under its new id."""
    store = store or PackageStore()
    wanted = ", ".join(f"Python {c.python} on {c.arch}" for c in combinations)
    stored = store.get(package_id)
    if stored is None:
        raise TopUpError(f"{package_id} is not in this computer's package store, so wheels for {wanted} cannot "
                         f"be added to it; package the app again with --python listing the devices' Pythons")
    entries = _entries(stored.path)
    manifest: dict[str, Any] = json.loads(entries.pop(MANIFEST).read())
    requirements = _requirements(manifest, wanted)
    progress(f"adding wheels for {wanted} to {manifest['name']} {manifest['version']}")
    try:
        added = vendor_fleet(requirements, sorted({c.python for c in combinations}),
                             sorted({c.arch for c in combinations}), progress, require_one=False)
    except WheelError as exc:  # only for what is not about one combination (no pip, a broken cache)
        raise TopUpError("; ".join(exc.problems)) from exc
    added.resolutions = [r for r in added.resolutions if r.combination in combinations]
    everything = FleetWheels([*_existing(manifest), *added.resolutions])
    entries.update({name: entry for name, entry in wheel_entries(added).items() if name != "requirements.txt"})
    entries["requirements.txt"] = Entry(data="".join(f"{pin}\n" for pin in marker_pins(everything)).encode())
    _update_manifest(manifest, added)
    stored, _dest = store_archive(entries, manifest, store, None)
    notes = [str(n) for n in manifest.get("notes") or []]
    return BuildResult(stored=stored, path=stored.path, manifest=manifest, flavour=Flavour(manifest["flavour"]),
                       notes=notes)


def _entries(archive: Path) -> dict[str, Entry]:
    with tarfile.open(archive, "r:gz") as tar:
        entries = {m.name: Entry(data=tar.extractfile(m).read(), executable=bool(m.mode & 0o111))  # type: ignore[union-attr]
                   for m in tar.getmembers() if m.isfile()}
    entries.pop(SUMS, None)  # written again from the new entries
    return entries


def _requirements(manifest: dict[str, Any], wanted: str) -> list[Requirement]:
    lines = manifest.get("wheelRequirements")
    if not isinstance(lines, list):
        raise TopUpError(f"this package does not record what its wheels were resolved from, so wheels for {wanted} "
                         f"cannot be added to it; package the app again")
    try:
        return [Requirement(str(line)) for line in lines]
    except InvalidRequirement as exc:
        raise TopUpError(f"manifest.json: wheelRequirements: {exc}") from exc


def _existing(manifest: dict[str, Any]) -> list[Resolution]:
    """The package's own resolutions, as far as requirements.txt needs them (wheel names only)."""
    out = []
    for record in manifest["wheelSets"].values():
        combination = Combination(str(record["python"]), str(record["platform"]))
        if record.get("error"):
            out.append(Resolution(combination, problem=str(record["error"])))
        else:
            out.append(Resolution(combination, wheels=[Path(name) for name in record["wheels"]]))
    return out


def _update_manifest(manifest: dict[str, Any], added: FleetWheels) -> None:
    manifest["wheelSets"] = dict(sorted({**manifest["wheelSets"], **wheel_sets(added)}.items()))
    combos = [r.combination for r in added.resolutions]
    pythons = {*manifest.get("pythonVersions", []), *(c.python for c in combos)}
    manifest["pythonVersions"] = sorted(pythons, key=lambda p: int(p.split(".")[1]))
    platforms = list(manifest.get("platforms") or [])
    manifest["platforms"] = platforms + sorted({c.arch for c in combos} - set(platforms))
    notes = list(manifest.get("notes") or [])
    for resolution in added.resolutions:
        c = resolution.combination
        notes.append(f"added at deploy time: wheels for Python {c.python} on {c.arch}" if resolution.problem is None
                     else f"no wheels for Python {c.python} on {c.arch}: {resolution.problem}")
    manifest["notes"] = notes
