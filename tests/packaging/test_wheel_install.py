"""A plain ``pip install`` of the wheel works: icons, VSS catalogues and templates come with it.

The wheel is built with ``pip wheel . --no-deps`` from a copy of the checkout's files (setuptools
writes build/ into the folder it builds, and a build/ left over from an earlier build can carry
deleted files into a wheel), then installed with ``--no-deps --no-index`` into a fresh venv. That
venv reaches the dependencies already installed for these tests through a .pth file, which keeps
the test offline and seconds long; sdv_studio itself can only come from the wheel, as each command
checks, and every command runs from a folder outside the checkout with no PYTHONPATH.
"""

from __future__ import annotations

import json
import shutil
import signal
import site
import socket
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

from tests.locations import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

APP = REPO / "tests" / "data" / "apps" / "playground_export_code.json"
# What a copy of the checkout leaves out: caches, venvs and earlier builds.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis")


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("checkout") / "sdv-studio"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("wheel")
    done = _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(out)], source, 600)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("sdv_studio-*.whl")
    return built


@pytest.fixture(scope="module")
def prefix(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel installed: its bin/ and lib/ folders."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root, 60)
    (Path(purelib.stdout.strip()) / "sdv_studio_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                 str(wheel)], root, 300)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder and an environment that names no checkout."""
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    work = tmp_path / "work"
    work.mkdir()
    return work


def test_the_program_and_its_files_come_from_the_venv(prefix: Path, outside: Path) -> None:
    code = ("import json, sdv_studio\nfrom sdv_studio import shipped\n"
            "print(json.dumps([sdv_studio.__file__, str(shipped.icons_dir() / 'app.svg'), str(shipped.default_vss()),"
            " str(shipped.templates_dir() / 'sdv_launcher.py'), str(shipped.templates_dir() / 'sdv_shim')]))")
    done = _run([str(prefix / "bin" / "python"), "-c", code], outside, 60)
    assert done.returncode == 0, done.stderr
    for path in map(Path, json.loads(done.stdout)):
        assert path.is_relative_to(prefix) and path.exists(), path


def test_every_resource_and_template_is_in_the_wheel(wheel: Path, prefix: Path) -> None:
    installed = next((prefix / "lib").glob("python3.*/site-packages/sdv_studio"))
    for top in ("resources", "templates"):
        for path in (REPO / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert (installed / top / path.relative_to(REPO / top)).is_file(), f"{path.relative_to(REPO)}"


def test_package_a_playground_export(prefix: Path, outside: Path) -> None:
    # --python 3.11: the wheels the CLI tests package this app with, from the shared wheel cache.
    done = _run([str(prefix / "bin" / "sdv-studio"), "package", str(APP), "--python", "3.11",
                 "--output", str(outside / "out"), "--json"], outside, 600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    package = Path(result["path"])
    assert result["packageId"].startswith("pkg_") and package.stat().st_size == result["size"]
    with tarfile.open(package) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    # From the templates: the launcher and the ``sdv`` shim; from the shipped VSS 4.0 catalogue: the vehicle model.
    assert {"support/sdv_launcher.py", "support/sdv/__init__.py", "support/vehicle/__init__.py"} <= names
    assert manifest["name"] == "headlight-demo" and manifest["kuksaConfig"]["vssVersion"] == "4.0"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_broker_serves_the_shipped_catalogue(prefix: Path, outside: Path) -> None:
    argv = [str(prefix / "bin" / "sdv-studio"), "broker", "--port", str(_free_port()), "--address", "127.0.0.1",
            "--no-mqtt"]
    with subprocess.Popen(argv, cwd=outside, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as broker:
        assert broker.stdout is not None
        try:
            line = broker.stdout.readline()
        finally:
            broker.send_signal(signal.SIGTERM)
            rest = broker.stdout.read()
            code = broker.wait(timeout=30)
    assert "listening" in line, line + rest
    assert f"signals from {prefix}" in line, line
    assert code == 0, rest


def test_self_test(prefix: Path, outside: Path) -> None:
    done = _run([str(prefix / "bin" / "sdv-studio"), "--self-test"], outside, 180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "self-test ok"

