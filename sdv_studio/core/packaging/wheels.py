"""Vendoring wheels for offline installs, through a workstation cache.

``pip download --only-binary=:all: --platform … --python-version … --implementation cp`` resolves
the requirements for each target architecture once; the wheel files and the resolved set (keyed by
the requirements, Python version and architecture) are kept in the cache, so a warm build neither
touches the network nor runs pip's resolver.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from sdv_studio import paths
from sdv_studio.child_env import child_env
from sdv_studio.core import python_runtime

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


class WheelError(Exception):
    """Wheels could not be vendored; ``problems`` holds one line per requirement/platform."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


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
    files_dir = root / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix="dl-") as tmp:
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text("".join(f"{r}\n" for r in requirements))
        dest = Path(tmp) / "wheels"
        try:
            pip = python_runtime.pip(root.parent)
        except python_runtime.PythonRuntimeError as exc:
            return [f"requirements: {exc}"]
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
            # pip explains a conflict ("The conflict is caused by: …") on stdout, the errors on stderr.
            return _pip_problems(f"{done.stdout}\n{done.stderr}", arch, python_version)
        names = sorted(p.name for p in dest.glob("*.whl"))
        for name in names:
            target = files_dir / name
            if not target.exists():
                os.replace(dest / name, target)
        index = root / "sets" / f"{_set_key(requirements, python_version, arch)}.json"
        index.parent.mkdir(parents=True, exist_ok=True)
        partial = index.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"wheels": names}, indent=1))
        os.replace(partial, index)
    return []


def _pip_problems(output: str, arch: str, python_version: str) -> list[str]:
    where = f"{arch} (Python {python_version}, manylinux)"
    names = re.findall(r"No matching distribution found for ([^\s;]+)", output)
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
