"""An API server per test module, over real HTTP on 127.0.0.1, with its own SDV Studio home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.api.server import TOKEN, RunningApi, running_api


@pytest.fixture(scope="module")
def api_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh SDV Studio home (packages, records, inventory, token) for the module's server."""
    home = tmp_path_factory.mktemp("api-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SDV_STUDIO_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def api(api_home: Path) -> Iterator[RunningApi]:
    """A server with no devices to reach: nothing here leaves 127.0.0.1."""
    settings = ApiSettings(token=TOKEN, trust=HostKeyTrust(KnownHosts(api_home / "known_hosts")),
                           device_timeout=5.0, shutdown_timeout=10.0)
    with running_api(settings) as running:
        yield running
