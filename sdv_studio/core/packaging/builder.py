"""From a source to a stored, reproducible package (docs/package-format.md).

Everything that can be checked offline is checked first, and every problem is reported at once;
only then are wheels fetched (or taken from the cache) and the archive written.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import Requirement
from pydantic import ValidationError

from sdv_studio.core.defaults import DATABROKER_PORT, MQTT_PORT
from sdv_studio.core.errors import InvalidInput, OperationFailed
from sdv_studio.core.packaging import docker, template
from sdv_studio.core.packaging.app_requirements import (
    AppRequirements,
    app_requirements,
    unlisted_imports,
    with_origins,
)
from sdv_studio.core.packaging.app_signals import app_signals
from sdv_studio.core.packaging.archive import MANIFEST, Entry, manifest_bytes, package_id, write_archive
from sdv_studio.core.packaging.flavour import (
    Flavour,
    classify_entry,
    imported_roots,
    local_modules,
    needs_vehicle_model,
    third_party_imports,
)
from sdv_studio.core.packaging.sources import AppSource, SourceError, load_source, source_from_playground
from sdv_studio.core.packaging.stages import BuildStage, LineProgress, StageProgress, entered
from sdv_studio.core.packaging.store import PackageStore, StoredPackage
from sdv_studio.core.packaging.vehicle_model import ModelError, generated_model, resolve_vss
from sdv_studio.core.packaging.vss_overlay import OverlayError, effective_catalogue, overlay_files
from sdv_studio.core.packaging.wheels import (
    ARCHES,
    Combination,
    FleetWheels,
    WheelError,
    group_of,
    marker_pins,
    parse_pythons,
    vendor_fleet,
    version_notes,
)
from sdv_studio.models.package import (
    PYTHONS,
    PackageRequest,
    SDVAppPackage,
    check_app_files,
    validation_lines,
)

FORMAT_VERSION = 2  # 2: wheels for several Pythons, a wheel set per (Python, arch)
VSS_CATALOGUE = "vss.json"  # under support/: the effective catalogue, when overlays changed the release
_DEFAULT_BROKER = ("127.0.0.1", DATABROKER_PORT)
_DOCKER_PYTHON = "3.11"  # python:3.11-slim, the base image packages have always defaulted to

_SDV_MODEL_ALIAS = b"from vehicle import *  # noqa: F403\nfrom vehicle import Vehicle, vehicle\n"

class PackageError(InvalidInput):
    """The inputs are invalid; ``problems`` holds one line per problem."""

    summary = "invalid package"


class BuildFailed(OperationFailed):
    """The inputs were valid but the build could not finish (e.g. no network for a cold cache)."""

    summary = "the package could not be built"


@dataclass
class BuildOptions:
    name: str | None = None
    version: str = "1.0.0"
    description: str | None = None
    runtime: str = "native"
    python_versions: Sequence[str] = PYTHONS  # the device Pythons (major.minor) to carry wheels for
    memory: str = "512MB"
    cpu: str = "0.5"
    vss: str | None = None
    platforms: Sequence[str] = ARCHES
    output_dir: Path | None = None
    base_image: str | None = None
    extra_requirements: Sequence[str] = ()
    custom_broker_url: str | None = None
    broker_auto_detect: bool = True
    fallback_broker: bool = True  # start SDV Studio's databroker on a device that has none
    hot_swap: bool = True
    ota_enabled: bool = True
    security: Mapping[str, object] | None = None  # sandboxLevel, dataAccess, interAppCommunication

    @property
    def python_version(self) -> str:
        """The oldest targeted Python: the manifest's ``pythonVersion`` (what format 1 readers know)."""
        valid, _problems = parse_pythons(",".join(self.python_versions))
        return valid[0] if valid else ""


@dataclass
class BuildResult:
    stored: StoredPackage
    path: Path  # the written archive (in --output, or the store's copy)
    manifest: dict[str, object]
    flavour: Flavour
    notes: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, object]:
        """``{packageId, path, checksum, size, createdAt}`` as the CLI prints it."""
        data = self.stored.to_json_dict()
        return {"packageId": data["packageId"], "path": str(self.path), "checksum": data["checksum"],
                "size": data["size"], "createdAt": data["createdAt"]}


def default_name(hint: str) -> str:
    """A valid package name from a file, folder or prototype name (``Smart Wipers`` -> ``smart-wipers``)."""
    name = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:63].strip("-")
    return name or "app"


def build_package(source: AppSource | Path, options: BuildOptions, progress: StageProgress = lambda _: None,
                  store: PackageStore | None = None) -> BuildResult:
    """Validates, vendors, writes and stores a package; raises PackageError or BuildFailed."""
    try:
        app = load_source(source) if isinstance(source, Path) else source
    except SourceError as exc:
        raise PackageError(exc.problems) from exc
    plan = _checked_plan(app, options)
    planning = entered(BuildStage.PLAN, progress)
    planning(f"{plan.package.name} {plan.package.version}: {plan.flavour} app, entry {plan.package.entry_point}")
    for note in plan.notes:
        planning(note)
    try:
        wheels = entered(BuildStage.WHEELS, progress)
        fleet = vendor_fleet(plan.requirements, _targets(options), list(options.platforms), wheels)
        if options.fallback_broker:
            _prepare_broker(fleet, wheels)
        _note_unlisted_imports(app, plan, fleet, wheels)
        plan.notes.extend(_fleet_notes(fleet, plan.requirements, wheels))
        supporting = entered(BuildStage.SUPPORT, progress)
        catalogue = _catalogue(app, plan, supporting)
        support = _support_files(app, plan, catalogue, supporting)
    except WheelError as exc:
        raise BuildFailed(with_origins(exc.problems, plan.origins)) from exc
    except OverlayError as exc:
        raise PackageError(exc.problems) from exc
    except ModelError as exc:
        raise BuildFailed([str(exc)]) from exc
    plan.signals = app_signals(app.declared_signals, app.python_files().values(), catalogue)
    entries = dict(plan.app_entries)
    entries.update({f"support/{path}": Entry(data=data) for path, data in support.items()})
    entries.update(wheel_entries(fleet))
    argv, env = _launch(app, plan, options)
    entries["launch.json"] = Entry(data=manifest_bytes({"argv": argv, "env": env, "health": {"path": "/health"}}))
    base_image = options.base_image or docker.default_base_image(_docker_python(fleet, options))
    entries["docker/Dockerfile"] = Entry(data=docker.dockerfile(argv, env, base_image).encode())
    entries["docker/compose.yaml"] = Entry(data=docker.compose(plan.package, base_image, {
        **env, **_agent_env(plan, options)}).encode())
    entered(BuildStage.WRITE, progress)
    return _write(entries, plan, options, fleet, store or PackageStore())


def build_from_request(request: PackageRequest, progress: StageProgress = lambda _: None,
                       store: PackageStore | None = None) -> BuildResult:
    """The POST /api/apps/package body: its ``code`` is Python or a playground file tree."""
    try:
        source = source_from_playground({"name": request.name, "code": request.code}, name_hint=request.name)
    except SourceError as exc:
        raise PackageError(exc.problems) from exc
    limits = request.deployment.resource_limits
    options = BuildOptions(
        name=request.name, version=request.version, description=request.description,
        runtime=request.runtime_mode, python_versions=request.python_versions, memory=limits.memory,
        cpu=limits.cpu, vss=request.kuksa_config.vss_version, platforms=request.platforms,
        extra_requirements=request.requirements, custom_broker_url=request.kuksa_config.custom_broker_url,
        broker_auto_detect=request.kuksa_config.broker_auto_detect,
        fallback_broker=request.kuksa_config.fallback_broker, hot_swap=request.deployment.hot_swap,
        ota_enabled=request.deployment.ota_enabled, security=request.security.to_json_dict(),
    )
    return build_package(source, options, progress, store)


def _checked_plan(app: AppSource, options: BuildOptions) -> _Plan:
    """The plan, with every problem in the targeted Pythons reported beside the plan's own."""
    _valid, problems = parse_pythons(",".join(options.python_versions))
    if options.base_image is not None and not docker.valid_image_reference(options.base_image):
        problems.append(f"baseImage: {options.base_image!r} is not an image reference like python:3.11-slim "
                        "or registry.example.com:5000/team/python:3.11")
    try:
        plan = _plan(app, options)
    except PackageError as exc:
        raise PackageError(problems + [p for p in exc.problems if not p.startswith("pythonVersion")]) from exc
    if problems:
        raise PackageError(problems)
    return plan


# -- wheels for every targeted (Python, arch) -------------------------------------------------


def _prepare_broker(fleet: FleetWheels, progress: LineProgress) -> None:
    """The embedded databroker's wheels for every device the package can serve, into the wheel cache,
    so this computer deploys the package offline. What is missing is said now, not kept in the
    manifest: the package's bytes do not depend on this computer's cache."""
    from sdv_studio.core.device_wheels.broker_bundle import prepare_broker_wheels

    combinations = [(r.combination.python, r.combination.arch) for r in fleet.resolved]
    progress(f"the embedded databroker: wheels for {len(combinations)} Python/architecture combinations")
    for line in prepare_broker_wheels(combinations):
        progress(f"note: {line}; a device that needs it must have a databroker of its own, or this computer "
                 "must reach the package index when deploying")


def _fleet_notes(fleet: FleetWheels, requirements: list[Requirement], progress: LineProgress) -> list[str]:
    notes = version_notes(fleet, requirements)
    notes += [f"note: no wheels for Python {r.combination.python} on {r.combination.arch}: {r.problem}"
              for r in fleet.resolutions if r.problem is not None]
    for note in notes:
        progress(note)
    return notes


def wheel_entries(fleet: FleetWheels) -> dict[str, Entry]:
    """requirements.txt (every combination, with markers), one requirements file per resolved
    combination, and the wheels: pure ones once under ``any``, compiled ones under their arch."""
    entries = {"requirements.txt": Entry(data=_lines(marker_pins(fleet)))}
    for resolution in fleet.resolved:
        entries[_requirements_path(resolution.combination.key)] = Entry(data=_lines(resolution.pins))
    for group, files in fleet.groups().items():
        entries.update({f"wheels/{group}/{f.name}": Entry(path=f) for f in files})
    return entries


def wheel_sets(fleet: FleetWheels) -> dict[str, dict[str, object]]:
    """The manifest's record per combination: what resolved (pins and wheel files), or why not."""
    sets: dict[str, dict[str, object]] = {}
    for resolution in fleet.resolutions:
        combination = resolution.combination
        record: dict[str, object] = {"python": combination.python, "platform": combination.arch}
        if resolution.problem is not None:
            record["error"] = resolution.problem
        else:
            record["requirements"] = _requirements_path(combination.key)
            record["pins"] = resolution.pins
            record["wheels"] = sorted(f"wheels/{group_of(w.name, combination.arch)}/{w.name}"
                                      for w in resolution.wheels)
        sets[combination.key] = record
    return sets


def _targets(options: BuildOptions) -> list[str]:
    valid, _problems = parse_pythons(",".join(options.python_versions))
    return valid


def _requirements_path(key: str) -> str:
    return f"requirements/{key}.txt"


def _lines(lines: list[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()


def _docker_python(fleet: FleetWheels, options: BuildOptions) -> str:
    """The base image's Python: 3.11 (the long-standing default image) when it resolved on every
    platform, else the newest that did (else on any; else the newest targeted, for an app without
    requirements)."""
    resolved = [r.combination for r in fleet.resolved]
    everywhere = [p for p in {c.python for c in resolved}
                  if all(Combination(p, arch) in resolved for arch in options.platforms)]
    candidates = everywhere or [c.python for c in resolved] or _targets(options)
    if _DOCKER_PYTHON in candidates:
        return _DOCKER_PYTHON
    return max(candidates, key=lambda p: int(p.split(".")[1]))


# -- planning: everything that needs no network ---------------------------------------------


@dataclass
class _Plan:
    package: SDVAppPackage
    flavour: Flavour
    templated: bool  # the entry is the kuksa template around the user's fragment
    requirements: list[Requirement]
    app_entries: dict[str, Entry]
    vss_file: Path | None
    vss_label: str
    notes: list[str]
    origins: dict[str, str] = field(default_factory=dict)  # requirement name -> file:line / "added by …"
    signals: list[str] = field(default_factory=list)  # the VSS signals the app uses (app_signals)


def _plan(app: AppSource, options: BuildOptions) -> _Plan:
    problems = check_app_files(app.files)
    if problems:
        raise PackageError(problems)
    py_files = app.python_files()
    entry_kind = classify_entry(py_files, app.entry_point)
    flavour, templated = entry_kind.flavour, entry_kind.templated
    code = app.text(app.entry_point)
    if templated:
        code = template.render_app(code)
    name = options.name if options.name is not None else default_name(app.name_hint)
    vss_file: Path | None = None
    vss_label = options.vss or app.vss_hint or "default"
    try:
        vss_file, vss_label = resolve_vss(options.vss or app.vss_hint)
    except ModelError as exc:
        problems.append(str(exc))
    fields = {
        "name": name, "version": options.version,
        "description": options.description if options.description is not None else app.description,
        "pythonVersion": options.python_version, "entryPoint": app.entry_point,
        "runtimeMode": options.runtime, "code": code,
        "kuksaConfig": {"vssVersion": vss_label, "customBrokerUrl": options.custom_broker_url,
                        "brokerAutoDetect": options.broker_auto_detect, "fallbackBroker": options.fallback_broker},
        "deployment": {"resourceLimits": {"memory": options.memory, "cpu": options.cpu},
                       "hotSwap": options.hot_swap, "otaEnabled": options.ota_enabled},
        **({"security": dict(options.security)} if options.security is not None else {}),
    }
    package: SDVAppPackage | None = None
    try:
        package = SDVAppPackage.model_validate(fields)
    except ValidationError as exc:
        problems.extend(validation_lines(exc))
    if not options.platforms:
        problems.append("platform: name at least one of x86_64, aarch64")
    problems.extend(f"platform: {p}: must be one of x86_64, aarch64" for p in options.platforms if p not in ARCHES)
    wanted = _requirements(app, options, flavour, py_files)
    problems.extend(wanted.problems)
    try:
        overlay_files(app.files)
    except OverlayError as exc:
        problems.extend(exc.problems)
    if problems or package is None:
        raise PackageError(problems or ["package: invalid"])
    entries = {f"app/{path}": Entry(data=data) for path, data in app.files.items()}
    entries[f"app/{app.entry_point}"] = Entry(data=code.encode("utf-8"))
    return _Plan(package, flavour, templated, wanted.requirements, entries, vss_file, vss_label,
                 [entry_kind.reason, *app.notes, *wanted.notes], wanted.origins)


def _requirements(app: AppSource, options: BuildOptions, flavour: Flavour,
                  py_files: Mapping[str, str]) -> AppRequirements:
    lines = [*app.requirement_lines(), *((line, "the package request") for line in options.extra_requirements)]
    imports = set().union(*(imported_roots(src) for src in py_files.values()))
    return app_requirements(lines, flavour, imports)


def _note_unlisted_imports(app: AppSource, plan: _Plan, fleet: FleetWheels, progress: LineProgress) -> None:
    """Imports that neither a requirement nor a resolved wheel provides (``google`` is protobuf's)."""
    files = [f for group in fleet.groups().values() for f in group]
    unlisted = unlisted_imports(third_party_imports(app.python_files()), plan.requirements, files)
    if unlisted:
        plan.notes.append(f"note: imports not in requirements.txt (install may miss them): {', '.join(unlisted)}")
        progress(plan.notes[-1])


# -- what goes beside the app ---------------------------------------------------------------


def _catalogue(app: AppSource, plan: _Plan, progress: LineProgress) -> Path | None:
    """The VSS catalogue the app's signals come from: the release, plus the project's overlays."""
    if plan.vss_file is None:
        return None
    return effective_catalogue(plan.vss_file, overlay_files(app.files), progress)


def _support_files(app: AppSource, plan: _Plan, catalogue: Path | None, progress: LineProgress) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if catalogue is not None and catalogue != plan.vss_file:
        # The release with the app's own signals: the device's fallback databroker loads it.
        files[VSS_CATALOGUE] = catalogue.read_bytes()
    files[template.METER] = template.meter()  # the launcher and the kuksa template both use it
    if plan.templated:
        return files
    files.update(template.launcher())
    if plan.flavour is not Flavour.VELOCITAS:
        return files
    py_files = app.python_files()
    local = local_modules(list(py_files))
    imports = set().union(*(imported_roots(src) for src in py_files.values()))
    if "sdv" in imports and "sdv" not in local:
        files.update(template.sdv_shim())
    if needs_vehicle_model(py_files) and catalogue is not None:
        files.update(template.model_files(generated_model(catalogue, progress)))
        if "sdv_model" in imports and "sdv_model" not in local:
            # The model's old package name, from Velocitas templates before the rename.
            files["sdv_model/__init__.py"] = _SDV_MODEL_ALIAS
    return files


def _launch(app: AppSource, plan: _Plan, options: BuildOptions) -> tuple[list[str], dict[str, str]]:
    host, port = _broker(options.custom_broker_url)
    env = {"PYTHONUNBUFFERED": "1", "VSS_VERSION": plan.vss_label}
    if plan.flavour is Flavour.VELOCITAS:
        env.update({"SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://{host}:{port}",
                    "SDV_MQTT_ADDRESS": f"mqtt://127.0.0.1:{MQTT_PORT}", "SDV_MIDDLEWARE_TYPE": "native"})
    else:
        env["KUKSA_ENDPOINT"] = f"{host}:{port}"
    entry = f"app/{app.entry_point}"
    if plan.templated:  # the template checks its own databroker connection
        return ["{python}", entry], env
    env["SDV_APP_FLAVOUR"] = str(plan.flavour)  # the launcher's /health checks a KUKSA app's databroker
    return ["{python}", f"support/{template.LAUNCHER}", entry], env


def _agent_env(plan: _Plan, options: BuildOptions) -> dict[str, str]:
    host, port = _broker(options.custom_broker_url)
    return {"APP_NAME": plan.package.name, "APP_VERSION": plan.package.version,
            "SDV_HEALTH_PORT": str(docker.DEFAULT_HEALTH_PORT), "KUKSA_ENDPOINT": f"{host}:{port}",
            "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://{host}:{port}"}


def _broker(url: str | None) -> tuple[str, int]:
    if not url:
        return _DEFAULT_BROKER
    match = re.fullmatch(r"(?:[a-z+]+://)?\[?([^\]/]+?)\]?(?::(\d+))?/?", url.strip())
    if not match:
        return _DEFAULT_BROKER
    return match.group(1), int(match.group(2) or _DEFAULT_BROKER[1])


# -- writing --------------------------------------------------------------------------------


def _write(entries: dict[str, Entry], plan: _Plan, options: BuildOptions, fleet: FleetWheels,
           store: PackageStore) -> BuildResult:
    manifest: dict[str, object] = {
        **plan.package.to_json_dict(), "formatVersion": FORMAT_VERSION, "flavour": str(plan.flavour),
        "platforms": list(options.platforms), "pythonVersions": _targets(options),
        # What the wheel sets were resolved from, so a set can be added later (core.packaging.top_up).
        "wheelRequirements": [str(r) for r in plan.requirements],
        "wheelSets": wheel_sets(fleet), "notes": [n.removeprefix("note: ") for n in plan.notes],
        "signals": plan.signals,
    }
    stored, dest = store_archive(entries, manifest, store, options.output_dir)
    return BuildResult(stored=stored, path=dest, manifest=manifest, flavour=plan.flavour, notes=plan.notes)


def store_archive(entries: dict[str, Entry], manifest: dict[str, object], store: PackageStore,
                  output_dir: Path | None) -> tuple[StoredPackage, Path]:
    """Writes the archive (into ``output_dir``, else straight into the store) and stores it;
    returns it as stored, and where it was written."""
    digest_cache: dict[Path, str] = {}

    def digest_of(_name: str, entry: Entry) -> str:
        if entry.path is not None:
            if entry.path not in digest_cache:
                digest_cache[entry.path] = hashlib.sha256(entry.path.read_bytes()).hexdigest()
            return digest_cache[entry.path]
        return hashlib.sha256(entry.read()).hexdigest()

    # The id is not written into the manifest: SHA256SUMS covers the manifest, and an id that
    # hashed itself could not be checked. The device agent derives it the same way.
    pid = package_id(entries, manifest, digest_of)
    entries[MANIFEST] = Entry(data=manifest_bytes(manifest))
    digests = {name: digest_of(name, entry) for name, entry in entries.items()}
    dest = store.archive_path(pid) if output_dir is None else output_dir / _archive_name(manifest)
    checksum = write_archive(entries, dest, digests)
    stored = store.add(dest, StoredPackage(
        package_id=pid, path=dest, checksum=f"sha256:{checksum}", size=dest.stat().st_size,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), name=str(manifest["name"]),
        version=str(manifest["version"])))
    return stored, dest


def _archive_name(manifest: dict[str, object]) -> str:
    return f"{manifest['name']}-{manifest['version']}.tar.gz"


def manifest_of(archive: Path) -> dict[str, object]:
    """The manifest.json of a package file (for deploy and the GUI's summary)."""
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise PackageError([f"{archive.name}: no {MANIFEST}"])
        data: dict[str, object] = json.loads(member.read())
        return data
