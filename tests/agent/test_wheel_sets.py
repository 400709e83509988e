"""A package for a mixed fleet (format 2): the agent installs its own (Python, arch) combination's
wheels, from an upload that holds only those, and refuses a package without them."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path

from tests.agent import pkgbuild
from tests.agent.conftest import Agent
from tests.agent.test_requirements import _wheel

HERE = f"{sys.version_info.major}.{sys.version_info.minor}-{platform.machine()}"
OTHER = "3.9-aarch64" if HERE == "3.8-aarch64" else "3.8-aarch64"  # never this interpreter's


def _fleet_files(here: dict[str, object] | None = None, extra: str = "") -> dict[str, bytes]:
    """``sdvdemo`` 1.2.11 for this interpreter's combination, 1.2.8 for another one; ``here``
    replaces this combination's record (e.g. with an ``error``)."""
    files = pkgbuild.package_files("fleet", "1.0.0", extra=extra)
    files.pop("SHA256SUMS")
    sets: dict[str, dict[str, object]] = {}
    for key, answer in ((HERE, 11), (OTHER, 8)):
        name, data = _wheel("sdvdemo", f"1.2.{answer}", f"ANSWER = {answer}\n")
        files[f"wheels/any/{name}"] = data
        files[f"requirements/{key}.txt"] = f"sdvdemo==1.2.{answer}\n".encode()
        python, arch = key.split("-", 1)
        sets[key] = {"python": python, "platform": arch, "requirements": f"requirements/{key}.txt",
                     "pins": [f"sdvdemo==1.2.{answer}"], "wheels": [f"wheels/any/{name}"]}
    if here is not None:
        sets[HERE] = here
    manifest = json.loads(files["manifest.json"])
    manifest.update(formatVersion=2, wheelSets=sets)
    files["manifest.json"] = json.dumps(manifest).encode()
    files["requirements.txt"] = b"sdvdemo==1.2.8; python_version == \"3.8\"\nsdvdemo==1.2.11\n"
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())).encode()
    return files


def _upload(agent: Agent, files: dict[str, bytes], skip: str, only: set[str] | None = None) -> Path:
    """What the engine sends this device: everything but the other combination's files (``only``:
    just these, as in a delta)."""
    upload = agent.base / "uploads" / f"fleet-{len(list((agent.base / 'uploads').glob('fleet-*')))}"
    for rel, data in files.items():
        if skip not in rel and "sdvdemo-1.2.8" not in rel and (only is None or rel in only):
            (upload / rel).parent.mkdir(parents=True, exist_ok=True)
            (upload / rel).write_bytes(data)
    return upload


def test_installs_only_its_combination(agent: Agent) -> None:
    files = _fleet_files()
    installed = agent.run("install", {"dir": str(_upload(agent, files, OTHER))})
    release = agent.base / "apps" / "fleet" / "releases" / installed["release"]
    assert installed["packageId"] == pkgbuild.package_id(files)  # the id covers every combination
    assert _answer_of(agent, installed["release"]) == "11"
    assert not (release / "venv" / "bin" / "pip").exists()  # its set is unpacked as listed, no pip
    held = sorted(str(p.relative_to(release)) for p in (release / "wheels").rglob("*.whl"))
    assert held == ["wheels/any/sdvdemo-1.2.11-py3-none-any.whl"]
    assert not (release / "requirements" / f"{OTHER}.txt").exists()


def test_a_one_line_change_after_it_is_built_from_what_the_device_holds(agent: Agent) -> None:
    first = agent.run("install", {"dir": str(_upload(agent, _fleet_files(), OTHER))})
    changed = _fleet_files(extra="one-line change")
    delta = agent.run("install", {"dir": str(_upload(agent, changed, OTHER, {"SHA256SUMS", "app/main.py"}))})
    assert delta["release"] != first["release"] and delta["sent"] == 1
    assert _answer_of(agent, delta["release"]) == "11"


def test_a_missing_wheel_of_its_own_combination_is_refused(agent: Agent) -> None:
    files = _fleet_files()
    upload = _upload(agent, files, OTHER)
    (upload / "wheels" / "any" / "sdvdemo-1.2.11-py3-none-any.whl").unlink()
    refused = agent.run("install", {"dir": str(upload)}, expect_ok=False)
    assert not refused["ok"] and "wheels/any/sdvdemo-1.2.11-py3-none-any.whl" in refused["error"]


def test_a_package_without_its_combination_is_refused_with_the_reason(agent: Agent, tmp_path: Path) -> None:
    python, arch = HERE.split("-", 1)
    reason = f"grpcio==1.64.1 (required by velocitas-sdk 0.15.7) has no wheel for Python {python} on {arch}"
    files = _fleet_files({"python": python, "platform": arch, "error": reason})
    package = pkgbuild.write_package(tmp_path / "fleet.tar.gz", files)
    refused = agent.run("install", {"package": str(package)}, expect_ok=False)
    assert refused["error"] == (
        f"the package has no wheels for Python {python} on {arch}: {reason} (it has {OTHER})")


def _answer_of(agent: Agent, release: str) -> str:
    python = agent.base / "apps" / "fleet" / "releases" / release / "venv" / "bin" / "python"
    done = subprocess.run([str(python), "-c", "import sdvdemo; print(sdvdemo.ANSWER)"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or done.stderr
