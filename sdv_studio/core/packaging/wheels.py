"""Vendoring wheels for offline installs, through a workstation cache.

``pip download --only-binary=:all: --platform … --python-version … --implementation cp`` resolves
the requirements for each target architecture once; the wheel files and the resolved set (keyed by
the requirements, Python version and architecture) are kept in the cache, so a warm build neither
touches the network nor runs pip's resolver.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from sdv_studio import paths
from sdv_studio.child_env import child_env
from sdv_studio.core import python_runtime
from sdv_studio.core.errors import OperationFailed
from sdv_studio.core.packaging.sdist_wheels import SdistBuildFailed, pure_wheel

ARCHES = ("x86_64", "aarch64")
# glibc 2.31 is the oldest on our targets (Jetson JetPack 5 / Ubuntu 20.04). pip does not widen a
# --platform to older manylinux tags, so every compatible tag is listed.
MANYLINUX = "manylinux_2_31"
_GLIBC_MINOR = 31
_LEGACY = {"x86_64": ("manylinux2014", "manylinux2010", "manylinux1"), "aarch64": ("manylinux2014",)}


def platform_tags(arch: str) -> list[str]:
    oldest = 5 if arch == "x86_64" else 17
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(_GLIBC_MINOR, oldest - 1, -1)]
    return tags + [f"{legacy}_{arch}" for legacy in _LEGACY.get(arch, ())]
_SET_FORMAT = 1

Progress = Callable[[str], None]


class WheelError(OperationFailed):
    """Wheels could not be vendored; ``problems`` holds one line per requirement/platform."""


@dataclass
class VendoredWheels:
    pins: list[str]  # requirements.txt lines: name==version, with a marker when arches differ
    wheels: dict[str, list[Path]] = field(default_factory=dict)  # "any" or an arch -> files


def cache_root() -> Path:
    override = os.environ.get("SDV_STUDIO_WHEEL_CACHE")
    root = Path(override) if override else paths.cache_dir() / "wheels"
    root.mkdir(parents=True, exist_ok=True)
    return root


def parse_requirements(lines: Iterable[str], source: str = "requirements") -> tuple[list[Requirement], list[str]]:
    """Requirements from requirements.txt lines, and a problem line for each one we cannot vendor."""
    requirements: list[Requirement] = []
    problems: list[str] = []
    for raw in lines:
        # pip-compile --generate-hashes continues a requirement with "\" and "--hash=…" lines.
        line = re.sub(r"(^|\s)#.*$", "", raw).strip().removesuffix("\\").strip()
        if not line or line.startswith("-"):
            continue  # pip options (-r, -c, --index-url, -e …) don't apply to an offline install
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            problems.append(f"{source}: {line}: {exc}")
            continue
        if requirement.url:
            problems.append(f"{source}: {requirement.name}: a direct URL cannot be vendored; "
                            "name a released version instead")
            continue
        requirements.append(requirement)
    return requirements, problems


def vendor(requirements: Sequence[Requirement], python_version: str, arches: Sequence[str],
           progress: Progress = lambda _: None, *, patient: bool = True) -> VendoredWheels:
    """Wheels for every requirement on every arch, from the cache or downloaded into it.
    ``patient=False``: one try with a short timeout, for what may be skipped when offline."""
    if not requirements:
        return VendoredWheels(pins=[], wheels={})
    root = cache_root()
    resolved: dict[str, dict[str, Path]] = {}
    missing = [arch for arch in arches if _cached_set(root, requirements, python_version, arch) is None]
    if missing:
        progress(f"downloading wheels for {', '.join(missing)} (Python {python_version})")
        with ThreadPoolExecutor(max_workers=len(missing)) as pool:
            outcomes = list(pool.map(lambda a: _download(root, requirements, python_version, a, patient), missing))
        problems = [line for outcome in outcomes for line in outcome]
        if problems:
            raise WheelError(problems)
    for arch in arches:
        cached = _cached_set(root, requirements, python_version, arch)
        if cached is None:
            raise WheelError([f"requirements: the wheel cache at {root} lost files while building"])
        resolved[arch] = cached
    return _merge(resolved)


def _set_key(requirements: Sequence[Requirement], python_version: str, arch: str) -> str:
    lines = sorted(str(r) for r in requirements)
    blob = json.dumps([_SET_FORMAT, lines, python_version, arch, MANYLINUX], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _cached_set(root: Path, requirements: Sequence[Requirement], python_version: str,
                arch: str) -> dict[str, Path] | None:
    index = root / "sets" / f"{_set_key(requirements, python_version, arch)}.json"
    try:
        names = json.loads(index.read_text())["wheels"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    files = {name: root / "files" / name for name in names}
    return files if all(f.is_file() for f in files.values()) else None


def _download(root: Path, requirements: Sequence[Requirement], python_version: str, arch: str,
              patient: bool = True) -> list[str]:
    done = _pip_download(root, requirements, python_version, arch, patient)
    if isinstance(done, str):
        return [done]
    # pip explains a conflict ("The conflict is caused by: …") on stdout, the errors on stderr.
    return [] if done.returncode == 0 else _pip_problems(f"{done.stdout}\n{done.stderr}", arch, python_version)


def _pip_download(root: Path, requirements: Sequence[Requirement], python_version: str, arch: str,
                  patient: bool = True) -> subprocess.CompletedProcess[str] | str:
    """pip's resolution for one Python and arch, stored in the cache when it succeeds; a problem
    line when pip itself is missing."""
    files_dir = root / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix="dl-") as tmp:
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text("".join(f"{r}\n" for r in requirements))
        dest = Path(tmp) / "wheels"
        try:
            pip = python_runtime.pip(root.parent)
        except python_runtime.PythonRuntimeError as exc:
            return f"requirements: {exc}"
        command = [
            *pip, "download", "--disable-pip-version-check", "--no-input",
            "--progress-bar", "off", "--only-binary=:all:",
            *(() if patient else ("--retries", "0", "--timeout", "5")),
            *(arg for tag in platform_tags(arch) for arg in ("--platform", tag)),
            "--python-version", python_version, "--implementation", "cp",
            "--find-links", str(files_dir), "--dest", str(dest), "-r", str(req_file),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              env=child_env())
        if done.returncode != 0:
            return done
        names = sorted(p.name for p in dest.glob("*.whl"))
        for name in names:
            target = files_dir / name
            if not target.exists():
                os.replace(dest / name, target)
        _write_index(root, requirements, python_version, arch, {"wheels": names})
    return done


def _write_index(root: Path, requirements: Sequence[Requirement], python_version: str, arch: str,
                 record: dict[str, object]) -> None:
    index = root / "sets" / f"{_set_key(requirements, python_version, arch)}.json"
    index.parent.mkdir(parents=True, exist_ok=True)
    partial = index.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_text(json.dumps(record, indent=1))
    os.replace(partial, index)


def _offline(output: str) -> str | None:
    """Why pip could not ask the package index, when it could not: "no wheel" would be a false claim then."""
    if os.environ.get("PIP_NO_INDEX", "").strip().lower() in ("1", "true", "yes", "on"):
        return "the package index is switched off (PIP_NO_INDEX)"
    trouble = _NETWORK_TROUBLE.search(output)
    if trouble is None:
        return None
    detail = re.search(r"Connection\(host='([^']+)', port=(\d+)\): ([^\"')]+)", output)
    if detail:
        return f"the package index at {detail.group(1)}:{detail.group(2)} is unreachable ({detail.group(3).strip()})"
    line = next((ln.strip() for ln in output.splitlines() if trouble.group(0) in ln), trouble.group(0))
    return f"the package index is unreachable ({line[:160]})"


def _pip_problems(output: str, arch: str, python_version: str) -> list[str]:
    where = f"{arch} (Python {python_version}, manylinux)"
    names = re.findall(r"No matching distribution found for ([^\s;]+)", output)
    offline = _offline(output)
    if names and offline:
        return [f"requirements: {name}: no wheel for {where} in this computer's wheel cache, and {offline}; "
                "connect once (or set PIP_INDEX_URL to a reachable mirror) to fill the cache"
                for name in dict.fromkeys(names)]
    if names:
        return [f"requirements: {name}: no wheel for {where}" for name in dict.fromkeys(names)]
    if "ResolutionImpossible" in output or "conflict" in output.lower():
        clashes = _clashes(output)
        if clashes:
            return [f"requirements: on {arch}, {clash}" for clash in clashes]
        return [f"requirements: conflicting versions on {arch}, which pip does not detail"]
    errors = [ln.strip() for ln in output.splitlines() if ln.startswith("ERROR")]
    last = errors[-1] if errors else (output.strip().splitlines() or ["pip failed"])[-1]
    return [f"requirements: could not download wheels for {where}: {last}"]


_CAUSE = re.compile(r"^\s*(?:The user requested (?:\(constraint\) )?(?P<req>\S.*?)"
                    r"|(?P<dist>\S+) (?P<version>\S+) depends on (?P<dep>\S.*?))\s*$")


def _clashes(output: str) -> list[str]:
    """One line per clashing distribution from pip's "The conflict is caused by:" block:
    ``grpcio==1.59.0 (requested) conflicts with grpcio==1.64.1 (required by velocitas-sdk 0.15.4)``."""
    _, found, block = output.partition("The conflict is caused by:")
    if not found:
        return []
    sides: dict[str, list[str]] = {}
    for line in block.strip("\n").splitlines():
        match = _CAUSE.match(line)
        if match is None:
            break
        spec = match.group("req") or match.group("dep")
        who = "requested" if match.group("req") else f"required by {match.group('dist')} {match.group('version')}"
        name = canonical(re.split(r"[\s\[<>=!~;@]", spec, maxsplit=1)[0])
        sides.setdefault(name, []).append(f"{spec} ({who})")
    return [" conflicts with ".join(dict.fromkeys(group)) for group in sides.values()]


def _merge(resolved: dict[str, dict[str, Path]]) -> VendoredWheels:
    """Pure wheels once under ``any``, the rest per arch; one pin per package (markers if arches differ)."""
    wheels: dict[str, list[Path]] = {}
    versions: dict[str, dict[str, str]] = {}
    for arch, files in resolved.items():
        for name, path in files.items():
            try:
                dist_name, version, _build, tags = parse_wheel_filename(name)
            except InvalidWheelFilename:
                continue
            versions.setdefault(str(dist_name), {})[arch] = str(version)
            group = "any" if all(tag.platform == "any" for tag in tags) else arch
            if path not in wheels.setdefault(group, []):
                wheels[group].append(path)
    pins: list[str] = []
    for dist in sorted(versions):
        per_arch = versions[dist]
        if len(set(per_arch.values())) == 1 and len(per_arch) == len(resolved):
            pins.append(f"{dist}=={next(iter(per_arch.values()))}")
        else:
            pins.extend(f'{dist}=={v}; platform_machine == "{a}"' for a, v in sorted(per_arch.items()))
    return VendoredWheels(pins=pins, wheels={k: sorted(v) for k, v in wheels.items()})


def canonical(name: str) -> str:
    return str(canonicalize_name(name))


# -- one package for a mixed fleet: a resolution per (Python, arch) -------------------------

_FLEET_WORKERS = 4  # pip runs are mostly network and CPU bound; more would only queue on small machines
# A combination that cannot resolve is remembered this long, so a warm rebuild does not run pip's
# resolver again for it; failures that look like network trouble are never remembered.
_UNAVAILABLE_TTL = 24 * 3600
_NETWORK_TROUBLE = re.compile(r"Retrying|NewConnectionError|Failed to establish|Max retries|timed out|"
                              r"Temporary failure|Network is unreachable|ConnectionError", re.I)


@dataclass(frozen=True)
class Combination:
    python: str  # major.minor
    arch: str

    @property
    def key(self) -> str:
        return f"{self.python}-{self.arch}"


@dataclass
class Resolution:
    combination: Combination
    wheels: list[Path] = field(default_factory=list)
    problem: str | None = None  # why nothing fits this combination, for a person to act on
    details: list[str] = field(default_factory=list)  # pip's own complaint, one line per problem

    @property
    def versions(self) -> dict[str, str]:
        """Distribution (canonical name) -> resolved version."""
        out: dict[str, str] = {}
        for path in self.wheels:
            dist, version, _build, _tags = parse_wheel_filename(path.name)
            out[str(dist)] = str(version)
        return out

    @property
    def pins(self) -> list[str]:
        return [f"{dist}=={version}" for dist, version in sorted(self.versions.items())]


@dataclass
class FleetWheels:
    resolutions: list[Resolution]

    @property
    def resolved(self) -> list[Resolution]:
        return [r for r in self.resolutions if r.problem is None]

    def groups(self) -> dict[str, list[Path]]:
        """Pure wheels under ``any``, compiled ones under their arch; each file once (an abi3 wheel
        serves several Pythons)."""
        groups: dict[str, set[Path]] = {}
        for resolution in self.resolved:
            for path in resolution.wheels:
                groups.setdefault(group_of(path.name, resolution.combination.arch), set()).add(path)
        return {group: sorted(files) for group, files in sorted(groups.items())}


def group_of(wheel_name: str, arch: str) -> str:
    _dist, _version, _build, tags = parse_wheel_filename(wheel_name)
    return "any" if all(tag.platform == "any" for tag in tags) else arch


def parse_pythons(text: str) -> tuple[list[str], list[str]]:
    """``3.9,3.11`` -> the Pythons (ordered, no duplicates), and a problem line for each bad one."""
    pythons: list[str] = []
    problems: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        match = re.fullmatch(r"3\.(\d{1,2})", item)
        if not match or not 8 <= int(match.group(1)) <= 20:
            problems.append(f"python: {item or '(empty)'}: must be a Python version 3.8 or newer, like 3.11")
        elif item not in pythons:
            pythons.append(item)
    return sorted(pythons, key=lambda p: int(p.split(".")[1])), problems


def vendor_fleet(requirements: Sequence[Requirement], pythons: Sequence[str], arches: Sequence[str],
                 progress: Progress = lambda _: None, *, require_one: bool = True) -> FleetWheels:
    """A resolution per (Python, arch), from the cache or pip; WheelError when none resolves,
    unless ``require_one`` is False (topping a package up records such a failure like any other).
    pip's ``--python-version`` picks, for a requirement that is not pinned, the newest version
    that supports that Python. No requirements: nothing differs per Python, so no resolutions."""
    if not requirements:
        return FleetWheels([])
    combinations = [Combination(p, a) for p in pythons for a in arches]
    root = cache_root()
    missing = [c for c in combinations if _cached_resolution(root, requirements, c) is None]
    fresh: dict[Combination, Resolution] = {}
    if missing:
        progress(f"downloading wheels for {len(missing)} Python/architecture combinations "
                 f"({', '.join(c.key for c in missing)})")
        with ThreadPoolExecutor(max_workers=min(_FLEET_WORKERS, len(missing))) as pool:
            fresh = dict(zip(missing, pool.map(lambda c: _resolve(root, requirements, c), missing), strict=True))
    resolutions = [fresh.get(c) or _cached_resolution(root, requirements, c) or _lost(root, c)
                   for c in combinations]
    fleet = FleetWheels(resolutions)
    if require_one and not fleet.resolved:
        raise WheelError(list(dict.fromkeys(line for r in resolutions for line in r.details or [str(r.problem)])))
    return fleet


def _lost(root: Path, combination: Combination) -> Resolution:
    line = f"requirements: the wheel cache at {root} lost files while building"
    return Resolution(combination, problem=line, details=[line])


def _cached_resolution(root: Path, requirements: Sequence[Requirement],
                       combination: Combination) -> Resolution | None:
    files = _cached_set(root, requirements, combination.python, combination.arch)
    if files is not None:
        return Resolution(combination, wheels=sorted(files.values()))
    index = root / "sets" / f"{_set_key(requirements, combination.python, combination.arch)}.json"
    try:
        record = json.loads(index.read_text())
        problem, details, since = str(record["unavailable"]), list(record["details"]), float(record["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if time.time() - since > _UNAVAILABLE_TTL or not record.get("triedSdists"):  # older: before sdist builds
        return None
    return Resolution(combination, problem=problem, details=[str(d) for d in details])


def _resolve(root: Path, requirements: Sequence[Requirement], combination: Combination) -> Resolution:
    python, arch = combination.python, combination.arch
    done = _pip_download(root, requirements, python, arch)
    if (not isinstance(done, str) and done.returncode != 0 and _offline(done.stderr) is None
            and _built_from_sdists(root, done.stderr)):
        done = _pip_download(root, requirements, python, arch)  # the new wheels are in --find-links now
    if isinstance(done, str):
        return Resolution(combination, problem=done, details=[done])
    if done.returncode == 0:
        return _cached_resolution(root, requirements, combination) or _lost(root, combination)
    details = _pip_problems(f"{done.stdout}\n{done.stderr}", arch, python)
    offline = _offline(done.stderr)
    problem = "; ".join(details) if offline else (_unavailable(done.stderr, requirements, combination)
                                                  or "; ".join(details))
    if not offline:  # what the index lacks is remembered; what could not be asked is not
        _write_index(root, requirements, python, arch,
                     {"unavailable": problem, "details": details, "at": time.time(), "triedSdists": True})
    return Resolution(combination, problem=problem, details=details)


def _built_from_sdists(root: Path, stderr: str) -> bool:
    """Pure-Python wheels for what pip found no wheel of (sdist_wheels.py); True when any was built.
    A failed build leaves the requirement as pip reported it: unresolved, with no wheel."""
    built = False
    for wanted in list(dict.fromkeys(re.findall(r"No matching distribution found for ([^\s;]+)", stderr)))[:3]:
        with contextlib.suppress(SdistBuildFailed):
            built = pure_wheel(wanted, root) is not None or built
    return built


def _unavailable(stderr: str, requirements: Sequence[Requirement], combination: Combination) -> str | None:
    """``grpcio==1.64.1 (required by velocitas-sdk 0.15.7) has no wheel for Python 3.13 on x86_64``
    from pip's "Could not find a version that satisfies the requirement …" line."""
    match = re.search(r"satisfies the requirement (\S+)(?: \(from (?!versions)([^)]+)\))?", stderr)
    if match is None:
        return None
    wanted, parent = match.group(1), match.group(2)
    where = f"has no wheel for Python {combination.python} on {combination.arch}"
    if not parent:
        return f"{wanted} {where}"
    return f"{wanted} (required by {_label(parent, requirements)}) {where}"


def _label(parent: str, requirements: Sequence[Requirement]) -> str:
    """``velocitas-sdk 0.15.7`` when the package pins it, else the name pip gave."""
    name = re.split(r"[\s=<>!~\[;]", parent.strip(), maxsplit=1)[0]
    for requirement in requirements:
        pinned = [s.version for s in requirement.specifier if s.operator == "=="]
        if canonical(requirement.name) == canonical(name) and len(pinned) == 1:
            return f"{name} {pinned[0]}"
    return name


def version_notes(fleet: FleetWheels, requirements: Sequence[Requirement]) -> list[str]:
    """A note for each requirement that resolved to different versions on different Pythons:
    ``kuksa-client 0.6.0 on Python 3.11–3.13, 0.5.2 on 3.8–3.10 (0.6.0 needs Python >=3.11)``."""
    notes: list[str] = []
    for requirement in requirements:
        dist = canonical(requirement.name)
        pythons: dict[str, set[str]] = {}
        wheel_of: dict[str, Path] = {}
        for resolution in fleet.resolved:
            version = resolution.versions.get(dist)
            if version is not None:
                pythons.setdefault(version, set()).add(resolution.combination.python)
                wheel_of.setdefault(version, next(w for w in resolution.wheels
                                                  if canonical(parse_wheel_filename(w.name)[0]) == dist))
        if len(pythons) < 2:
            continue
        ordered = sorted(pythons, key=Version, reverse=True)
        spans = [f"{version} on {_span(pythons[version])}" for version in ordered]
        spans[0] = spans[0].replace(" on ", " on Python ", 1)
        needs = _requires_python(wheel_of[ordered[0]])
        reason = f" ({ordered[0]} needs Python {needs})" if needs else ""
        notes.append(f"note: {requirement.name} {', '.join(spans)}{reason}")
    return notes


def _span(pythons: set[str]) -> str:
    """``3.8–3.10`` for consecutive minors, else a list."""
    minors = sorted(int(p.split(".")[1]) for p in pythons)
    if len(minors) > 1 and minors == list(range(minors[0], minors[-1] + 1)):
        return f"3.{minors[0]}–3.{minors[-1]}"
    return ", ".join(f"3.{m}" for m in minors)


def _requires_python(wheel: Path) -> str | None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            text = archive.read(name).decode("utf-8", "replace")
    except (OSError, StopIteration, zipfile.BadZipFile):
        return None
    match = re.search(r"^Requires-Python:\s*(.+?)\s*$", text.split("\n\n", 1)[0], re.M)
    return match.group(1) if match else None


def marker_pins(fleet: FleetWheels) -> list[str]:
    """requirements.txt for every resolved combination: ``name==version``, with an environment
    marker where the version (or the need) differs between combinations."""
    resolved = fleet.resolved
    arches = sorted({r.combination.arch for r in resolved})
    by_dist: dict[str, dict[str, list[Combination]]] = {}
    for resolution in resolved:
        for dist, version in resolution.versions.items():
            by_dist.setdefault(dist, {}).setdefault(version, []).append(resolution.combination)
    lines: list[str] = []
    for dist in sorted(by_dist):
        for version, combos in sorted(by_dist[dist].items(), key=lambda item: Version(item[0])):
            if len(combos) == len(resolved):
                lines.append(f"{dist}=={version}")
            else:
                lines.append(f"{dist}=={version}; {_marker(combos, arches)}")
    return lines


def _marker(combos: list[Combination], arches: list[str]) -> str:
    terms: list[str] = []
    for python in sorted({c.python for c in combos}, key=lambda p: int(p.split(".")[1])):
        on = sorted(c.arch for c in combos if c.python == python)
        if on == arches:
            terms.append(f'python_version == "{python}"')
        else:
            terms += [f'(python_version == "{python}" and platform_machine == "{a}")' for a in on]
    return " or ".join(terms)
