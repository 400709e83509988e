"""The guide's integration test (spec: "Testing Strategy"), ported with its aiohttp flow and its
assertions unchanged; only where TestEnvironment comes from, and the rig it needs, are this project's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
from sdv_studio.core.packaging import build_from_request
from sdv_studio.models.package import PackageRequest
from tests.api.guide.integration import TestEnvironment
from tests.rig.devices import DeviceSpec
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]
PACKAGE = {'name': 'test-app', 'version': '1.0.0', 'code': 'print("Hello SDV!")', 'runtimeMode': 'docker'}


@pytest.fixture(scope="module")
def guide_rig() -> Iterator[Rig]:
    """One device with a container engine: the first (and only) one discovery finds."""
    # The LAN has no package index: what the server's build and the device's databroker need is
    # fetched into the wheel cache first, as a workstation with a network would have it.
    build_from_request(PackageRequest.model_validate(PACKAGE))
    broker_bundle("3.11", "x86_64")
    rig = Rig.build([DeviceSpec("g1", "198.18.0.41", engine=True)])
    TestEnvironment.rig = rig
    try:
        yield rig
    finally:
        rig.teardown()


class TestDeploymentIntegration:
    @pytest.fixture
    async def test_env(self, guide_rig):
        env = TestEnvironment()
        await env.start()
        yield env
        await env.stop()

    @pytest.mark.asyncio
    async def test_full_deployment_workflow(self, test_env):
        """Test complete deployment workflow"""

        # 1. Package app
        package_data = {
            'name': 'test-app',
            'version': '1.0.0',
            'code': 'print("Hello SDV!")',
            'runtimeMode': 'docker'
        }

        package_response = await test_env.client.post('/api/apps/package', json=package_data)
        assert package_response.status == 200
        package_info = await package_response.json()

        # 2. Discover devices
        devices_response = await test_env.client.get('/api/devices/discover')
        assert devices_response.status == 200
        devices = await devices_response.json()
        assert len(devices['devices']) > 0

        # 3. Deploy to device
        deployment_data = {
            'packageId': package_info['packageId'],
            'devices': [devices['devices'][0]['id']]
        }

        deployment_response = await test_env.client.post('/api/deployments', json=deployment_data)
        assert deployment_response.status == 200
        deployment = await deployment_response.json()

        # 4. Monitor deployment
        deployment_id = deployment['deploymentId']

        for _ in range(30):  # Wait up to 30 seconds
            status_response = await test_env.client.get(f'/api/deployments/{deployment_id}')
            status = await status_response.json()

            if status['status'] == 'completed':
                break

            await asyncio.sleep(1)
        else:
            pytest.fail("Deployment did not complete in time")

        # 5. Verify app is running
        device_id = devices['devices'][0]['id']
        app_status = await test_env.get_device_app_status(device_id, package_info['packageId'])
        assert app_status['status'] == 'running'
