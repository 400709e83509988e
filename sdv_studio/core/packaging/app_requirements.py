"""What an app needs installed: its own requirement lines, honoured as written, plus only what it lacks.

A Velocitas project pins its SDK and that SDK's own pins (pip-compile writes them all into
``app/requirements.txt``); replacing some of them would break the set pip resolved for it. So the
packager adds a requirement only when the app names none for that distribution, and it remembers
where every requirement comes from (``file:line``, or "added by SDV Studio") so that a resolution
failure can name both sides of a clash.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement

from sdv_studio.core.packaging.flavour import Flavour
from sdv_studio.core.packaging.wheels import canonical, parse_requirements

VELOCITAS_SDK = "velocitas-sdk==0.15.7"
# Not pinned: each device Python gets the newest release that supports it (0.6 needs Python >= 3.11).
KUKSA_CLIENT = "kuksa-client>=0.4"
# velocitas_sdk.util.log imports opentelemetry's logging instrumentation, which imports pkg_resources
# without declaring setuptools; the device's venv is laid out without pip, so has no setuptools.
# setuptools 82 removed pkg_resources; below it, pip picks the newest the device's Python takes.
PKG_RESOURCES = "setuptools<82"
ADDED = "added by SDV Studio"
# The SDK's old import name; PyPI's "sdv" is an unrelated project, so it is never installed.
_OLD_SDK = "sdv"
_SDK_LINK = re.compile(r"(velocitas|vehicle-app-python-sdk).*(git\+|https?://)|(git\+|https?://).*velocitas", re.I)

# Import names of well-known distributions whose name differs, for when the resolved wheels cannot
# be read (the note is computed from top_level.txt / RECORD of the vendored wheels when they can).
KNOWN_IMPORTS: Mapping[str, frozenset[str]] = {
    "protobuf": frozenset({"google"}),
    "googleapis-common-protos": frozenset({"google"}),
    "grpcio": frozenset({"grpc"}),
    "grpcio-tools": frozenset({"grpc_tools"}),
    "kuksa-client": frozenset({"kuksa_client", "kuksa"}),
    "velocitas-sdk": frozenset({"velocitas_sdk"}),
    "paho-mqtt": frozenset({"paho"}),
    "pyyaml": frozenset({"yaml"}),
    "setuptools": frozenset({"setuptools", "pkg_resources"}),
    "python-dateutil": frozenset({"dateutil"}),
    "beautifulsoup4": frozenset({"bs4"}),
    "pillow": frozenset({"PIL"}),
    "opencv-python": frozenset({"cv2"}),
    "opencv-python-headless": frozenset({"cv2"}),
    "scikit-learn": frozenset({"sklearn"}),
    "pyserial": frozenset({"serial"}),
    "python-can": frozenset({"can"}),
}
# Provided by SDV Studio itself beside the app (support/), never by a requirement.
_SUPPORT_IMPORTS = {"sdv", "vehicle", "sdv_model"}


@dataclass
class AppRequirements:
    requirements: list[Requirement]
    origins: dict[str, str]  # canonical name -> "app/requirements.txt:12" or ADDED
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def app_requirements(lines: Sequence[tuple[str, str]], flavour: Flavour, imports: set[str]) -> AppRequirements:
    """The requirements to vendor from ``(line, origin)`` pairs, and the imports of the app's code."""
    result = AppRequirements([], {})
    by_name: dict[str, Requirement] = {}
    for text, origin in lines:
        if flavour is Flavour.VELOCITAS and _SDK_LINK.search(text):
            continue  # a link to the SDK's sources (requirements-links.txt); the release is used
        parsed, problems = parse_requirements([text], source=origin)
        result.problems.extend(problems)
        for requirement in parsed:
            key = canonical(requirement.name)
            if flavour is Flavour.VELOCITAS and key == _OLD_SDK:
                result.notes.append(f"note: {origin}: `sdv` is the SDK's old name (PyPI's sdv is unrelated): "
                                    "velocitas-sdk is installed instead")
                continue
            if key in by_name:
                by_name[key] = _combine(by_name[key], requirement)
            else:
                by_name[key], result.origins[key] = requirement, origin
    if flavour is Flavour.VELOCITAS:
        _add_if_unversioned(by_name, result, VELOCITAS_SDK)
    elif flavour is Flavour.KUKSA and "kuksa-client" not in by_name:
        _add(by_name, result, KUKSA_CLIENT)
    if ("velocitas-sdk" in by_name or "pkg_resources" in imports) and "setuptools" not in by_name:
        _add(by_name, result, PKG_RESOURCES)
        who = "velocitas-sdk's logging imports" if "velocitas-sdk" in by_name else "the app imports"
        result.notes.append(f"note: {PKG_RESOURCES} added: {who} pkg_resources, which setuptools 82 removed "
                            "and a device venv (laid out without pip) does not have")
    result.requirements = [by_name[k] for k in sorted(by_name)]
    return result


def _add_if_unversioned(by_name: dict[str, Requirement], result: AppRequirements, pin: str) -> None:
    key = canonical(Requirement(pin).name)
    if key not in by_name or not by_name[key].specifier:
        _add(by_name, result, pin)


def _add(by_name: dict[str, Requirement], result: AppRequirements, pin: str) -> None:
    requirement = Requirement(pin)
    key = canonical(requirement.name)
    if key in by_name:
        requirement.extras |= by_name[key].extras
    by_name[key], result.origins[key] = requirement, ADDED


def _combine(first: Requirement, second: Requirement) -> Requirement:
    merged = Requirement(str(first))
    merged.specifier &= second.specifier
    merged.extras |= second.extras
    return merged


# -- naming where each side of a failure comes from ---------------------------------------------

_REQUESTED = re.compile(r"(\S+) \(requested\)")
_REQUIRED_BY = re.compile(r"\(required by (\S+) (\S+)\)")
_NO_WHEEL = re.compile(r"^requirements: (\S+): no wheel")


def with_origins(problems: Iterable[str], origins: Mapping[str, str]) -> list[str]:
    """Problem lines from vendoring, with each requirement's origin in place of pip's wording."""
    def origin_of(requirement: str) -> str | None:
        name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
        return origins.get(canonical(name)) if name else None

    def requested(match: re.Match[str]) -> str:
        return f"{match.group(1)} ({origin_of(match.group(1)) or 'requested'})"

    def required_by(match: re.Match[str]) -> str:
        origin = origin_of(match.group(1))
        return f"(required by {match.group(1)} {match.group(2)}{', ' + origin if origin else ''})"

    def no_wheel(match: re.Match[str]) -> str:
        origin = origin_of(match.group(1))
        return f"requirements: {match.group(1)}{f' ({origin})' if origin else ''}: no wheel"

    return [_NO_WHEEL.sub(no_wheel, _REQUIRED_BY.sub(required_by, _REQUESTED.sub(requested, line)))
            for line in problems]


# -- imports the requirements do not provide ---------------------------------------------------


def unlisted_imports(imports: set[str], requirements: Sequence[Requirement], wheel_files: Iterable[Path]) -> list[str]:
    """Third-party imports that no requirement and no vendored wheel provides."""
    provided = set(_SUPPORT_IMPORTS)
    for requirement in requirements:
        key = canonical(requirement.name)
        provided |= KNOWN_IMPORTS.get(key, frozenset({key.replace("-", "_")}))
    for wheel in wheel_files:
        provided |= provided_imports(wheel)
    return sorted(m for m in imports if m not in provided and canonical(m).replace("-", "_") not in provided)


def provided_imports(wheel: Path) -> set[str]:
    """Top-level import names a wheel installs: its top_level.txt, else the roots listed in RECORD."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            top_level = next((n for n in names if n.endswith(".dist-info/top_level.txt")), None)
            if top_level is not None:
                return {ln.strip().split("/")[0] for ln in archive.read(top_level).decode().splitlines() if ln.strip()}
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError):
        return set()
    roots = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    return {r.removesuffix(".py") for r in roots if r.isidentifier() or r.endswith(".py")}
