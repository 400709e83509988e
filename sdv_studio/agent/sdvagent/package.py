"""Reading a package (docs/package-format.md): safe unpacking, SHA256SUMS checks, delta assembly."""

from __future__ import annotations

import hashlib
import os
import re
import shutil

from .errors import AgentError, BadRequest
from .jsonfile import read_json
from .layout import valid_name, valid_version

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import AbstractSet, Any, Dict, List, Optional, Tuple

SUMS = "SHA256SUMS"
# What a package (format 2) carries per (Python, arch): a device holds only its own combination's.
PER_COMBINATION = ("wheels/", "requirements/")
_CHUNK = 1 << 20
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def package_id(sums_path: str) -> str:
    return "pkg_" + sha256_file(sums_path)[:16]


def parse_sums(path: str) -> Dict[str, str]:
    """``{relative path: sha256}``; rejects paths that would leave the package folder."""
    sums = {}  # type: Dict[str, str]
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except UnicodeDecodeError:
        raise AgentError("%s: not UTF-8 text" % SUMS) from None
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not _safe_relpath(name):
            raise AgentError("%s:%d: malformed line" % (SUMS, number))
        sums[name] = digest.lower()
    return sums


def _plain_string(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value


def _safe_relpath(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts and "\x00" not in name


def unpack(archive: str, dest: str) -> None:
    """Extracts regular files and folders only: links, devices and escaping paths are refused."""
    import tarfile  # only for a package sent whole; deploys of an uploaded folder never need it

    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for m in members:
                name = m.name[2:] if m.name.startswith("./") else m.name
                if name in ("", "."):
                    continue
                if not _safe_relpath(name.rstrip("/")) or not (m.isfile() or m.isdir()):
                    raise AgentError("unsafe entry in package: %s" % m.name)
                target = os.path.join(dest, name)
                if m.isdir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                src = tar.extractfile(m)
                if src is None:
                    raise AgentError("unreadable entry in package: %s" % m.name)
                with src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
                os.chmod(target, 0o755 if m.mode & 0o111 else 0o644)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise AgentError("cannot unpack %s: %s" % (archive, exc)) from exc


def verify(root: str, may_lack: AbstractSet[str] = frozenset()) -> Dict[str, str]:
    """Checks every listed file's hash and that nothing unlisted is present; returns the sums.
    Files in ``may_lack`` (another Python's wheels) may be absent, but not different."""
    sums_path = os.path.join(root, SUMS)
    if not os.path.isfile(sums_path):
        raise AgentError("package has no %s" % SUMS)
    sums = parse_sums(sums_path)
    bad = [name for name, digest in sorted(sums.items()) if not _matches(os.path.join(root, name), digest)
           and not (name in may_lack and not os.path.lexists(os.path.join(root, name)))]
    if bad:
        raise AgentError("checksum mismatch: %s" % ", ".join(bad[:10]), {"mismatched": bad})
    extra = sorted(set(_files_under(root)) - set(sums) - {SUMS})
    if extra:
        raise AgentError("files not in %s: %s" % (SUMS, ", ".join(extra[:10])), {"unlisted": extra})
    return sums


def _matches(path: str, digest: str) -> bool:
    return os.path.isfile(path) and not os.path.islink(path) and sha256_file(path) == digest


def _files_under(root: str) -> List[str]:
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            found.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return found


def assemble(staging: str, dest: str, sources: Dict[str, str], optional: Tuple[str, ...] = ()) -> Dict[str, int]:
    """Builds ``dest`` from a partial upload in ``staging`` plus files already on the device.

    ``sources`` maps a sha256 to a file the device already holds with that content. Each listed
    file comes from staging when uploaded there, else from ``sources``; copies (not hard links) so
    an app that writes into its own folder cannot change another version. Files under an
    ``optional`` prefix may be missing (``verify`` then decides which this device needs).
    """
    sums_path = os.path.join(staging, SUMS)
    if not os.path.isfile(sums_path):
        raise BadRequest("the upload has no %s" % SUMS)
    sums = parse_sums(sums_path)
    sent = reused = 0
    missing = []
    os.makedirs(dest, exist_ok=True)
    shutil.copy2(sums_path, os.path.join(dest, SUMS))
    for name, digest in sorted(sums.items()):
        uploaded = os.path.join(staging, name)
        source = uploaded if os.path.isfile(uploaded) else sources.get(digest)
        if source is None:
            if not name.startswith(optional):
                missing.append(name)
            continue
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)
        if source == uploaded:
            sent += 1
        else:
            reused += 1
    if missing:
        raise AgentError("files neither uploaded nor on the device: %s" % ", ".join(missing[:10]),
                         {"missing": missing})
    return {"sent": sent, "reused": reused}


def _package_json(root: str, name: str) -> Any:
    try:
        return read_json(os.path.join(root, name))
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise AgentError("%s: not JSON" % name) from None


class PackageInfo:
    """What the agent needs from an unpacked, verified package."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.manifest = _package_json(root, "manifest.json")
        self.launch = _package_json(root, "launch.json")
        if not isinstance(self.manifest, dict) or not isinstance(self.launch, dict):
            raise AgentError("package lacks manifest.json or launch.json")
        argv = self.launch.get("argv")
        if not isinstance(argv, list) or not argv or not all(_plain_string(a) for a in argv):
            raise AgentError("launch.json: argv must be a non-empty list of strings without NUL")
        env = self.launch.get("env") or {}
        if not isinstance(env, dict):
            raise AgentError("launch.json: env must be an object")
        for key, value in env.items():
            # What the OS cannot take as an environment (a NUL, a key with "=") would only fail at spawn.
            if not _ENV_KEY.fullmatch(key) or not _plain_string(value):
                raise AgentError("launch.json: env: %r: names are letters, digits and _, values strings "
                                 "without NUL" % key)
        # Both become folder names on the device: nothing that could leave the app's store.
        if not valid_name(self.manifest.get("name")):
            raise AgentError("manifest.json: name: must be lowercase letters, digits and hyphens")
        if not valid_version(self.manifest.get("version")):
            raise AgentError("manifest.json: version: must be a semantic version x.y.z, e.g. 1.0.0")

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def package_id(self) -> str:
        # Computed, not read: the manifest is itself listed in SHA256SUMS, so the id it carries
        # cannot be checked against the sums it would have to include.
        return package_id(os.path.join(self.root, SUMS))

    @property
    def health_path(self) -> Optional[str]:
        health = self.launch.get("health")
        return health.get("path") if isinstance(health, dict) else None

    @property
    def vss_version(self) -> str:
        kuksa = self.manifest.get("kuksaConfig") or {}
        return str(kuksa.get("vssVersion") or "")

    @property
    def ota_enabled(self) -> bool:
        """deployment.otaEnabled: false pins this version on the device (a deployment of another
        one needs ``force``)."""
        deployment = self.manifest.get("deployment") or {}
        return deployment.get("otaEnabled", True) is not False

    @property
    def resource_limits(self) -> Dict[str, Any]:
        deployment = self.manifest.get("deployment") or {}
        return dict(deployment.get("resourceLimits") or {})

    @property
    def requirements(self) -> List[str]:
        path = os.path.join(self.root, "requirements.txt")
        if not os.path.isfile(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
