"""The environment the guide's integration test imports (``from testing.integration import
TestEnvironment``): a running SDV Studio API, served as `sdv-studio serve` serves it, whose client is
an aiohttp session, on a LAN that holds one device with a container engine (the guide's test deploys
``runtimeMode: docker`` to the first device discovered)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.deploy import DeviceRef
from sdv_studio.core.deploy.app_control import device_status
from sdv_studio.core.deploy.targets import ConnectionDefaults
from sdv_studio.core.packaging.store import PackageStore
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import DeviceApps
from tests.api.server import TOKEN, running_api
from tests.rig.rig import Rig


class TestEnvironment:
    __test__ = False  # a helper named as the guide names it, not a test class

    rig: Rig  # set by the test module's fixture: the guide's constructor takes nothing

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self.client: aiohttp.ClientSession

    async def start(self) -> None:
        settings = ApiSettings(token=TOKEN, connection=ConnectionDefaults(user=self.rig.user,
                                                                          key_file=self.rig.key_path),
                               trust=HostKeyTrust(KnownHosts(self.rig.root / "guide_known_hosts"), accept_new=True),
                               grace_seconds=1.0, device_timeout=20.0, shutdown_timeout=60.0)
        api = self._stack.enter_context(running_api(settings, netns=self.rig.in_workstation))
        self.client = aiohttp.ClientSession(base_url=api.url, headers=api.auth)

    async def stop(self) -> None:
        await self.client.close()
        self._stack.close()

    async def get_device_app_status(self, device_id: str, package_id: str) -> dict[str, Any]:
        """The package's app as `sdv-studio status` reports it from the device (native or container)."""
        stored = PackageStore().get(package_id)
        assert stored is not None, package_id
        device = DeviceRef(device_id, SshTarget(device_id, user=self.rig.user, key_file=self.rig.key_path,
                                                use_keyring=False))
        trust = HostKeyTrust(KnownHosts(self.rig.root / "guide_known_hosts"), accept_new=True)

        def ask() -> DeviceApps:  # from the rig's LAN, as the server connects
            with self.rig.in_workstation():
                return asyncio.run(device_status(device, trust, 20.0, stored.name))

        found = await asyncio.to_thread(ask)
        assert found.error is None and found.apps, found
        return found.apps[0].to_json_dict()
