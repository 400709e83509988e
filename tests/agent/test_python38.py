"""The agent must run on a device's Python 3.8 (JetPack 5) with the stdlib alone."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio import shipped
from sdv_studio.agent import AGENT_DIR, agent_files
from sdv_studio.core.packaging.template import LAUNCHER, METER
from tests.agent import pkgbuild
from tests.agent.conftest import FAST, Agent


def _python38() -> str | None:
    candidates = [shutil.which("python3.8") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8*/bin/python3.8")))
    for path in filter(None, candidates):
        ok = subprocess.run([path, "-c", "import sys, venv; assert sys.version_info[:2] == (3, 8)"],
                            capture_output=True, check=False)
        if ok.returncode == 0:
            return path
    return None


def test_mypy_passes_as_the_oldest_python_it_targets() -> None:
    # mypy no longer targets 3.8 (1.17 dropped it); its oldest still catches stdlib APIs and signatures
    # newer than that, and vermin below covers 3.8 itself.
    defaults = pytest.importorskip("mypy.defaults")
    oldest = ".".join(map(str, defaults.PYTHON3_VERSION_MIN))
    done = subprocess.run([sys.executable, "-m", "mypy", "--python-version", oldest, "-p", "sdv_studio.agent"],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_vermin_says_python_38_is_enough() -> None:
    pytest.importorskip("vermin")
    # Also run on the device: the bootstrap that installs the agent, the launcher apps run under and
    # the meter it installs in them.
    files = [str(AGENT_DIR / rel) for rel in agent_files()]
    files += [str(AGENT_DIR / "bootstrap.py"), *(str(shipped.templates_dir() / t) for t in (LAUNCHER, METER))]
    cli = "import sys, vermin; sys.argv[0] = 'vermin'; sys.exit(vermin.main())"
    done = subprocess.run([sys.executable, "-c", cli, "-t=3.8-", "--violations", "--no-tips",
                           "--eval-annotations", *files], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def agent38(tmp_path: Path) -> Iterator[Agent]:
    python = _python38()
    if not python:
        pytest.skip("no Python 3.8 interpreter here; vermin covers the syntax and API check")
    a = Agent(tmp_path, python)
    yield a
    a.cleanup()


def test_agent_runs_under_python_38(agent38: Agent, tmp_path: Path) -> None:
    info = agent38.run("info")
    assert info["properties"]["python"].startswith("3.8.")
    agent38.run("deploy", dict(FAST, package=str(pkgbuild.build(tmp_path, "demo", "1.0.0"))))
    swap = agent38.run("deploy", dict(FAST, hotSwap=True, package=str(pkgbuild.build(tmp_path, "demo", "1.1.0"))))
    assert swap["mode"] == "hot-swap"
    app = agent38.run("status")["apps"][0]
    assert (app["status"], app["version"]) == ("running", "1.1.0")
    assert agent38.run("health", {"name": "demo"})["healthy"]
    agent38.run("metrics")
    agent38.run("uninstall", {"name": "demo"})
