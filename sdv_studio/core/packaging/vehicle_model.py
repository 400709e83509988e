"""The ``vehicle`` model Velocitas apps import, generated from a VSS catalogue.

velocitas-model-generator's ``gen-model`` lives in its own tool venv under the cache folder (its
dependencies, pandas and vss-tools among them, stay out of SDV Studio's environment). Models are
cached by the catalogue's hash, so the generator runs once per catalogue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from sdv_studio import shipped
from sdv_studio.child_env import child_env
from sdv_studio.core import python_runtime
from sdv_studio.core.errors import OperationFailed
from sdv_studio.core.packaging.wheels import cache_root

GENERATOR = "velocitas-model-generator==0.9.0"
# The generator pins vss-tools 6.0; naming it too makes the overlay compiler's version explicit.
VSS_TOOLS = "vss-tools==6.0.0"
Progress = Callable[[str], None]


class ModelError(OperationFailed):
    """The catalogue cannot be found or the model generated from it; one ``vss: …`` line."""


# A release as Velocitas manifests name it: …/releases/download/v3.0/vss_rel_3.0.json (or the KUKSA
# file name vss_release_3.0.json); a bare number, with or without the tag's "v".
_RELEASE_FILE = re.compile(r"vss_rel(?:ease)?_(\d+(?:\.\d+)+)\.json$")
_RELEASE_NUMBER = re.compile(r"v?(\d+(?:\.\d+)*)")


def shipped_releases() -> list[str]:
    found = (p.stem.removeprefix("vss_release_") for p in shipped.vss_dir().glob("vss_release_*.json"))
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def release_named(choice: str) -> str | None:
    """The release number a choice names: ``4.0``, ``v4``, or a release's URL or file name."""
    number = _RELEASE_NUMBER.fullmatch(choice.strip())
    if number:
        value = number.group(1)
        return f"{value}.0" if "." not in value else value
    name = _RELEASE_FILE.search(choice.strip().split("?", 1)[0])
    return name.group(1) if name else None


def resolve_vss(choice: str | None) -> tuple[Path, str]:
    """The catalogue file and its label for a release number or URL, ``latest``/``default``/None, or a path.

    A release URL is mapped to the catalogue SDV Studio ships; nothing is ever downloaded.
    """
    vss = shipped.vss_dir()
    if choice in (None, "", "latest", "default"):
        default = shipped.default_vss()
        return (default, _release_of(default)) if default.is_file() else (vss / "vss_release_4.0.json", "4.0")
    choice = str(choice)
    release = release_named(choice)
    if release is not None and (vss / f"vss_release_{release}.json").is_file():
        return vss / f"vss_release_{release}.json", release
    is_url = "://" in choice
    path = Path(choice).expanduser()
    if not is_url and path.is_file():
        return path, path.name
    known = ", ".join(shipped_releases())
    if is_url:
        raise ModelError(f"vss: {choice}: not a VSS release SDV Studio ships ({known}); URLs are never "
                         "downloaded: save the catalogue and name its path")
    raise ModelError(f"vss: {choice}: not a file, nor one of {known}")


def _release_of(vss_file: Path) -> str:
    """``major.minor`` from the catalogue's own Vehicle.VersionVSS defaults, else ``default``."""
    try:
        version = json.loads(vss_file.read_text(encoding="utf-8"))["Vehicle"]["children"]["VersionVSS"]
        parts = version["children"]
        return f"{int(parts['Major']['default'])}.{int(parts['Minor']['default'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return "default"


def generated_model(vss_file: Path, progress: Progress = lambda _: None) -> Path:
    """The folder of the generated ``vehicle`` package for this catalogue (cached)."""
    try:
        digest = hashlib.sha256(vss_file.read_bytes()).hexdigest()[:24]
    except OSError as exc:
        raise ModelError(f"vss: {vss_file.name}: cannot be read ({exc.strerror or exc})") from exc
    target = tools_root() / "vehicle-models" / digest
    if (target / "vehicle" / "__init__.py").is_file():
        return target / "vehicle"
    gen_model = _generator(progress)
    progress(f"generating the vehicle model from {vss_file.name}")
    try:
        return _generate(gen_model, vss_file, target)
    except OSError as exc:  # a cache another user made, a read-only or full one
        raise ModelError(f"vss: cannot write the vehicle model into {target.parent} ({exc.strerror or exc}); "
                         "set SDV_STUDIO_HOME to a folder you can write to") from exc


def _generate(gen_model: Path, vss_file: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        out = Path(tmp) / "out"
        done = subprocess.run([str(gen_model), "-l", "python", "-N", "vehicle", "-T", str(out), str(vss_file)],
                              capture_output=True, text=True, check=False, env=child_env())
        if done.returncode != 0 or not (out / "vehicle" / "__init__.py").is_file():
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ModelError(f"vss: {vss_file.name}: the vehicle model generator failed: {detail}")
        (out / "setup.py").unlink(missing_ok=True)
        try:
            os.replace(out, target)
        except OSError:  # another build got there first
            if not (target / "vehicle" / "__init__.py").is_file():
                raise
    return target / "vehicle"


def tools_root() -> Path:
    # Beside the wheel cache, so a shared wheel cache (CI, tests) shares the generator too.
    return cache_root().parent


def vss_tool(progress: Progress) -> Path:
    """vss-tools' ``vspec`` command, from the generator's tool venv."""
    return python_runtime.venv_executable(_tool_venv(progress), "vspec")


def _generator(progress: Progress) -> Path:
    return python_runtime.venv_executable(_tool_venv(progress), "gen-model")


def _tool_venv(progress: Progress) -> Path:
    venv = tools_root() / "tools" / "model-generator"
    if all(python_runtime.venv_executable(venv, tool).is_file() for tool in ("gen-model", "vspec")):
        return venv
    progress(f"installing {GENERATOR} and {VSS_TOOLS} into {venv} (once)")
    try:
        python_runtime.make_tool_venv(venv, [GENERATOR, VSS_TOOLS])
    except python_runtime.PythonRuntimeError as exc:
        raise ModelError(f"vss: could not install {GENERATOR}: {exc}") from exc
    return venv
