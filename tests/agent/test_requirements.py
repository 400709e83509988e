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
            archive.writestr(path, data)
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()


def test_requirements_are_installed_from_the_packages_wheels(agent: Agent, tmp_path: Path) -> None:
    wheel_name, wheel = _wheel("sdvdemo", "1.2.3", "ANSWER = 42\n")
    files = pkgbuild.package_files("withdeps", "1.0.0")
    files.pop("SHA256SUMS")
    files["requirements.txt"] = b"sdvdemo==1.2.3\n"
    files[f"wheels/any/{wheel_name}"] = wheel
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())
    ).encode()
    package = pkgbuild.write_package(tmp_path / "withdeps.tar.gz", files)

    installed = agent.run("install", {"package": str(package)})
    venv_python = agent.base / "apps" / "withdeps" / "releases" / installed["release"] / "venv" / "bin" / "python"
    answer = subprocess.run([str(venv_python), "-c", "import sdvdemo; print(sdvdemo.ANSWER)"],
                            capture_output=True, text=True, check=False)
    assert answer.stdout.strip() == "42", answer.stderr
