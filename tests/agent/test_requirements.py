"""A package's vendored wheels end up in its release venv, offline."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

from tests.agent import pkgbuild
from tests.agent.conftest import Agent


def _wheel(name: str, version: str, module_source: str) -> tuple[str, bytes]:
    """A minimal pure-Python wheel, so the test needs no index."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": module_source.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = "".join(f"{path},sha256={digest(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data)  # same bytes each time
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()


def _package(tmp_path: Path, version: str, answer: int, extra: str = "", also: int | None = None) -> Path:
    """``also``: a second version of the wheel beside it, so the set is no longer one per distribution."""
    files = pkgbuild.package_files("withdeps", version, extra=extra)
    files.pop("SHA256SUMS")
    files["requirements.txt"] = f"sdvdemo==1.2.{answer}\n".encode()
    for n in [answer] if also is None else [answer, also]:
        wheel_name, wheel = _wheel("sdvdemo", f"1.2.{n}", f"ANSWER = {n}\n")
        files[f"wheels/any/{wheel_name}"] = wheel
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())
    ).encode()
    return pkgbuild.write_package(tmp_path / f"withdeps-{version}.tar.gz", files)


def _answer(agent: Agent, release: str) -> str:
    venv_python = agent.base / "apps" / "withdeps" / "releases" / release / "venv" / "bin" / "python"
    answer = subprocess.run([str(venv_python), "-c", "import sdvdemo; print(sdvdemo.ANSWER)"],
                            capture_output=True, text=True, check=False)
    return answer.stdout.strip() or answer.stderr


def _has_pip(agent: Agent, release: str) -> bool:
    bin_dir = agent.base / "apps" / "withdeps" / "releases" / release / "venv" / "bin"
    return (bin_dir / "pip").exists() or (bin_dir / "pip3").exists()


def test_requirements_are_installed_from_the_packages_wheels(agent: Agent, tmp_path: Path) -> None:
    installed = agent.run("install", {"package": str(_package(tmp_path, "1.0.0", 42))})
    assert _answer(agent, installed["release"]) == "42"
    assert not _has_pip(agent, installed["release"])  # a closed set of wheels is unpacked, no pip run


def test_pip_decides_when_the_wheels_are_not_one_per_distribution(agent: Agent, tmp_path: Path) -> None:
    installed = agent.run("install", {"package": str(_package(tmp_path, "1.0.0", 42, also=41))})
    assert _answer(agent, installed["release"]) == "42"  # the pinned one of the two
    assert _has_pip(agent, installed["release"])


def test_releases_with_the_same_requirements_share_one_venv(agent: Agent, tmp_path: Path) -> None:
    releases = agent.base / "apps" / "withdeps" / "releases"
    first = agent.run("install", {"package": str(_package(tmp_path, "1.0.0", 42))})["release"]
    # A one-line change to the app's code: same requirements, so no new venv.
    second = agent.run("install", {"package": str(_package(tmp_path, "1.0.1", 42, extra="changed"))})["release"]
    assert (releases / first / "venv").resolve() == (releases / second / "venv").resolve()
    # Other requirements: a venv of its own, with its own wheel.
    third = agent.run("install", {"package": str(_package(tmp_path, "2.0.0", 7))})["release"]
    assert (releases / third / "venv").resolve() != (releases / first / "venv").resolve()
    assert (_answer(agent, second), _answer(agent, third)) == ("42", "7")
    assert len(list((agent.base / "apps" / "withdeps" / "venvs").iterdir())) == 2
