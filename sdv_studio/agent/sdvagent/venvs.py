"""One virtual environment per installed version, filled offline from the package's wheels."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys

from .errors import AgentError
from .jsonfile import read_json
from .package import PER_COMBINATION, SUMS, parse_sums
from .progress import report
from .sysinfo import arch

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, Dict, List, Optional, Set

_TAIL = 4000


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def create(venv: str, find_links: List[str], requirements: List[str], requirements_file: str = "",
           wheels: Optional[List[str]] = None) -> None:
    """A venv with the requirements installed offline from the wheels in ``find_links``.

    When those wheels are a closed set (one per distribution, every requirement among them, as the
    packager and the broker bundle vendor them), they are unpacked straight into the venv, in this
    process: pip's start-up and resolution cost seconds of CPU on a small board for nothing to
    resolve. Anything else goes to pip, which also says precisely what is missing. ``wheels``: the
    exact set to unpack, as the package resolved it for this Python and arch."""
    wanted = bool(requirements or requirements_file)
    if wheels is None:
        wheels = closed_set(find_links, requirements, requirements_file) if wanted else []
    if wheels is not None:
        try:
            _new_venv(venv)
        except (OSError, ValueError, subprocess.CalledProcessError) as exc:
            raise AgentError("creating the virtual environment failed: %s" % exc) from exc
        if wheels:
            report("requirements", count=len(wheels), file=os.path.basename(requirements_file) or None)
            unpack_wheels(venv, wheels)
        return
    report("requirements", count=len(requirements), file=os.path.basename(requirements_file) or None)
    _run([sys.executable, "-m", "venv", venv], "creating the virtual environment failed")
    # --no-compile: byte-compiling every installed module costs more CPU than the install itself on a
    # small board; Python compiles what the app really imports on first use.
    pip = [venv_python(venv), "-m", "pip", "install", "--no-index", "--no-compile", "--disable-pip-version-check",
           "--no-input"]
    for link in find_links:
        if os.path.isdir(link):
            pip += ["--find-links", link]
    if requirements_file:
        pip += ["-r", requirements_file]
    pip += requirements
    _run(pip, "installing the requirements failed")


def _new_venv(path: str) -> None:
    """A venv without pip. On Linux (every device) laid out here as ``venv.EnvBuilder(symlinks=True)``
    lays it out (PEP 405: interpreter links, ``pyvenv.cfg``, an empty site-packages), without the
    venv module: its imports and activate scripts cost ~14 ms of CPU on each fresh device."""
    if not sys.platform.startswith("linux"):
        import venv as venv_module

        venv_module.EnvBuilder(with_pip=False, symlinks=True).create(path)
        return
    base = getattr(sys, "_base_executable", "") or sys.executable  # the real interpreter, even from a venv
    if not base:
        raise ValueError("the running Python interpreter's path is unknown")
    base = os.path.abspath(base)
    version = "%d.%d" % sys.version_info[:2]
    bin_dir = os.path.join(path, "bin")
    for folder in (bin_dir, os.path.join(path, "include", "python" + version),
                   os.path.join(path, "lib", "python" + version, "site-packages")):
        os.makedirs(folder, exist_ok=True)
    if sys.maxsize > 2**32 and not os.path.lexists(os.path.join(path, "lib64")):
        os.symlink("lib", os.path.join(path, "lib64"))
    exe = os.path.basename(base)
    os.symlink(base, os.path.join(bin_dir, exe))
    for alias in ("python", "python3", "python" + version):
        if alias != exe:
            os.symlink(exe, os.path.join(bin_dir, alias))
    with open(os.path.join(path, "pyvenv.cfg"), "w", encoding="utf-8") as f:
        f.write("home = %s\ninclude-system-site-packages = false\nversion = %s\nexecutable = %s\n" % (
            os.path.dirname(base), ".".join(str(n) for n in sys.version_info[:3]), os.path.realpath(base)))


def _distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def closed_set(find_links: List[str], requirements: List[str], requirements_file: str = "") -> Optional[List[str]]:
    """Every wheel in ``find_links`` when they are one per distribution and name every requirement;
    None when pip must decide (two versions of one, a requirement without a wheel, pip options)."""
    wheels: Dict[str, str] = {}
    for folder in find_links:
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if name.endswith(".whl"):
                dist = _distribution(name.split("-", 1)[0])
                if dist in wheels:
                    return None
                wheels[dist] = os.path.join(folder, name)
    lines = list(requirements)
    if requirements_file:
        with open(requirements_file, encoding="utf-8") as f:
            lines += f.read().splitlines()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if line.startswith("-") or not match or _distribution(match.group(0)) not in wheels:
            return None
    return sorted(wheels.values())


def unpack_wheels(venv: str, wheels: List[str]) -> None:
    """Installs wheels into ``venv`` (see ``install_wheels``)."""
    site = os.path.join(venv, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
    install_wheels(site, wheels, os.path.join(venv, "bin"), venv_python(venv))


def install_wheels(site: str, wheels: List[str], bin_dir: str = "", python: str = "") -> None:
    """Installs wheels the way their format lays them out: the archive into ``site``, then
    ``<dist>.data/purelib|platlib`` merged into it and ``scripts`` into ``bin_dir`` when given, their
    ``#!python`` made ``python`` (no console-script launchers: apps and services are started as
    ``python -m`` or ``python file``)."""
    import zipfile  # only here: every deploy call imports this module

    for wheel in wheels:
        try:
            with zipfile.ZipFile(wheel) as archive:
                _check_members(os.path.basename(wheel), archive.infolist())
                archive.extractall(site)
                for member in archive.infolist():  # extractall drops modes; keep "executable", as pip does
                    if (member.external_attr >> 16) & 0o111 and not member.is_dir():
                        path = os.path.join(site, member.filename)
                        os.chmod(path, os.stat(path).st_mode | 0o111)
        except (OSError, zipfile.BadZipFile) as exc:
            raise AgentError("installing %s failed: %s" % (os.path.basename(wheel), exc)) from exc
    for data in [os.path.join(site, n) for n in os.listdir(site) if n.endswith(".data")]:
        for kind in ("purelib", "platlib"):
            if os.path.isdir(os.path.join(data, kind)):
                shutil.copytree(os.path.join(data, kind), site, dirs_exist_ok=True)
        scripts = os.path.join(data, "scripts")
        for name in os.listdir(scripts) if bin_dir and os.path.isdir(scripts) else []:
            with open(os.path.join(scripts, name), "rb") as f:
                body = f.read()
            if body.startswith(b"#!python"):
                body = b"#!" + python.encode() + body[len(b"#!python"):]
            target = os.path.join(bin_dir, name)
            with open(target, "wb") as f:
                f.write(body)
            os.chmod(target, 0o755)
        shutil.rmtree(data)


WHEEL_MEMBERS = 100000
WHEEL_BYTES = 2 << 30  # expanded; the largest wheels (CUDA builds of torch) are about 2 GB


def _check_members(wheel: str, members: List[Any]) -> None:
    """Refuses a wheel whose members would land outside the folder, or that expands beyond reason,
    before anything is written (extractall only drops a leading "/" and "..": a name chmod'ed after it
    would still be joined raw)."""
    if len(members) > WHEEL_MEMBERS:
        raise AgentError("%s: more than %d files; refused" % (wheel, WHEEL_MEMBERS))
    total = 0
    for member in members:
        name = member.filename
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0] or "\0" in name:
            raise AgentError("%s: the file %r would be written outside the environment; refused" % (wheel, name))
        total += member.file_size
        if total > WHEEL_BYTES:
            raise AgentError("%s: expands to more than %d bytes; refused" % (wheel, WHEEL_BYTES))


def package_find_links(root: str) -> List[str]:
    return [os.path.join(root, "wheels", "any"), os.path.join(root, "wheels", arch())]


def _run(cmd: List[str], message: str) -> None:
    env = dict(os.environ, PIP_NO_INDEX="1", PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AgentError("%s: %s" % (message, exc)) from exc
    if done.returncode != 0:
        output = done.stdout.decode("utf-8", "replace")[-_TAIL:]
        raise AgentError("%s (exit %d)" % (message, done.returncode), {"output": output})


def environment_key(release_dir: str) -> str:
    """What a release's venv depends on: the Python, the requirements and the wheels for this arch
    (for a package with wheel sets, this combination's).

    Two releases with the same key can share one venv, so a one-line change to the app's code
    installs nothing."""
    digest = hashlib.sha256(("%d.%d\n" % sys.version_info[:2]).encode())
    record = wheel_set(release_dir)
    listed = None if record is None else set(record["wheels"]) | {record["requirements"]}
    format1 = ("requirements.txt", "wheels/any/", "wheels/%s/" % arch())
    with open(os.path.join(release_dir, "SHA256SUMS"), encoding="utf-8") as sums:
        for line in sorted(sums):
            name = line.rstrip("\n").split("  ", 1)[-1]
            if name in listed if listed is not None else name.startswith(format1):
                digest.update(line.encode())
    return digest.hexdigest()[:16]


def combination() -> str:
    """This interpreter's key in a manifest's ``wheelSets``: ``3.11-x86_64``."""
    return "%d.%d-%s" % (sys.version_info[0], sys.version_info[1], arch())


def wheel_set(root: str) -> Optional[Dict[str, Any]]:
    """This Python's and arch's record in the package's ``wheelSets`` (docs/package-format.md);
    None for a package without (format 1, or an app with no requirements)."""
    manifest = read_json(os.path.join(root, "manifest.json"))
    sets = manifest.get("wheelSets") if isinstance(manifest, dict) else None
    if not isinstance(sets, dict) or not sets:
        return None
    record = sets.get(combination())
    if isinstance(record, dict) and isinstance(record.get("wheels"), list) and record.get("requirements"):
        return record
    python, machine = combination().split("-", 1)
    why = record.get("error") if isinstance(record, dict) else None
    raise AgentError("the package has no wheels for Python %s on %s%s (it has %s)" % (
        python, machine, ": %s" % why if why else "",
        ", ".join(sorted(k for k, v in sets.items() if isinstance(v, dict) and not v.get("error"))) or "none"))


def unneeded(root: str) -> Set[str]:
    """The package's per-combination files that this device does not use (so need not hold)."""
    record = wheel_set(root)
    if record is None:
        return set()
    used = set(record["wheels"]) | {record["requirements"]}
    return {name for name in parse_sums(os.path.join(root, SUMS))
            if name.startswith(PER_COMBINATION) and name not in used}


def release_environment(venvs_dir: str, release_dir: str, has_requirements: bool) -> str:
    """The (shared) venv for a release: this combination's wheels unpacked, or for a package
    without wheel sets what its requirements.txt names from wheels/any and wheels/<arch>."""
    key = environment_key(release_dir)
    record = wheel_set(release_dir)
    if record is None:
        requirements = os.path.join(release_dir, "requirements.txt") if has_requirements else ""
        return shared(venvs_dir, key, package_find_links(release_dir), requirements)
    wheels = [os.path.join(release_dir, name) for name in record["wheels"]]
    requirements = os.path.join(release_dir, record["requirements"]) if wheels else ""
    return shared(venvs_dir, key, package_find_links(release_dir), requirements, wheels)


def shared(venvs_dir: str, key: str, find_links: List[str], requirements_file: str,
           wheels: Optional[List[str]] = None) -> str:
    """The venv for ``key`` under ``venvs_dir``, created once (atomically: a half-made one is never used)."""
    path = os.path.join(venvs_dir, key)
    if os.path.exists(os.path.join(path, ".complete")):
        return path
    os.makedirs(venvs_dir, exist_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    try:
        create(path, find_links, [], requirements_file, wheels)
        open(os.path.join(path, ".complete"), "w").close()
    except BaseException:  # e.g. the disk filled up: no half-made venv stays behind
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path
