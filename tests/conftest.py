"""Suite-wide fixtures: an isolated SDV Studio home per test session, and CI's no-skip rule."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.locations import WHEEL_CACHE

pytest_plugins = ["tests.rig.plugin"]

# Qt tests run without a display; the GUI's own tests may override this.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test reads or writes the real user's config, inventory, keyring or caches.

    The wheel cache is the exception: it is shared (SDV_STUDIO_WHEEL_CACHE) so a run
    doesn't download the same wheels again.
    """
    home = tmp_path_factory.mktemp("sdv-home")
    old = os.environ.get("SDV_STUDIO_HOME")
    os.environ["SDV_STUDIO_HOME"] = str(home)
    os.environ.setdefault("SDV_STUDIO_WHEEL_CACHE", str(WHEEL_CACHE))
    # Never touch a desktop keyring from tests: an in-memory backend from tests/keyring_backend.py.
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.keyring_backend.MemoryKeyring"
    yield home
    if old is None:
        os.environ.pop("SDV_STUDIO_HOME", None)
    else:
        os.environ["SDV_STUDIO_HOME"] = old


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """In CI (CI=true) a rig or browser test that skips is a failure: ./dev.sh test provides both there."""
    outcome = yield
    report = outcome.get_result()
    browser = "browser" in getattr(item, "fixturenames", ())
    needs = "rig" if item.get_closest_marker("rig") else "browser" if browser else ""
    if os.environ.get("CI") == "true" and report.skipped and needs:
        report.outcome = "failed"
        report.longrepr = f"{needs} test skipped in CI: {report.longrepr}"


@pytest.fixture
def local_target_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Deployments to "This computer" stay in the test's folder, and everything they started stops.

    The local agent keeps its data under $SDV_AGENT_HOME (as root it would otherwise use
    /var/lib/sdv-studio) and is uploaded under $HOME."""
    home = tmp_path / "local-home"
    agent_home = home / ".local" / "share" / "sdv-studio"
    agent_home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SDV_AGENT_HOME", str(agent_home))
    monkeypatch.setenv("SDV_AGENT_NO_SYSTEMD", "1")
    yield home
    agent = agent_home / "agent" / "entrypoint.py"
    if agent.exists():
        subprocess.run([sys.executable, str(agent), "supervisor", '{"action": "stop", "stopApps": true}'],
                       capture_output=True, timeout=60, check=False)
