"""A device's metrics, once: one agent round trip when the agent is up to date."""

from __future__ import annotations

from sdv_studio.core.deploy.agent_link.session import agent_answer, deploy_errors
from sdv_studio.core.deploy.service import DeviceRef
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.metrics import DeviceMetrics


async def sample_metrics(device: DeviceRef, trust: HostKeyTrust, timeout: float,
                         since: float | None = None) -> DeviceMetrics:
    """The latest figures of the device and each app (with ``since``, the samples after it);
    DeployError when the device cannot be reached or its agent fails."""
    async with deploy_errors(device.target):
        answer = await agent_answer(device.target, trust, timeout, "metrics",
                                    {"since": since} if since is not None else {})
    return DeviceMetrics.from_agent(device.device_id, answer)
