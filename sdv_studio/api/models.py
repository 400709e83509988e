"""The API's own response bodies (requests are the core's models: PackageRequest, DeploymentRequest).

``size`` is the human form (``"2.5MB"``), as in DeviceInfo; exact bytes are beside it in ``sizeBytes``
(docs/interface.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from sdv_studio.models.base import CamelModel
from sdv_studio.models.deployment import Deployment
from sdv_studio.models.device import DeviceInfo


class ErrorBody(CamelModel):
    detail: str
    problems: list[str] = Field(description="one `field: message` line per problem")


class DiscoverResponse(CamelModel):
    devices: list[DeviceInfo]


class PackageCreated(CamelModel):
    package_id: str
    download_url: str = Field(description="an absolute URL on this server; needs the same bearer token")
    checksum: str = Field(description="sha256:<hex> of the .tar.gz")
    size: str = Field(description='the guide\'s human form, e.g. "2.5MB"')
    size_bytes: int = Field(description="the exact size in bytes (what `sdv-studio package --json` calls size)")
    created_at: str
    name: str
    version: str
    notes: list[str] = Field(default_factory=list, description="worth knowing about the build, not blocking")


class DeploymentList(CamelModel):
    deployments: list[Deployment]


class DeviceMetrics(CamelModel):
    """The device agent's metrics: CPU, memory, disk and each running app's usage."""

    model_config = ConfigDict(extra="allow")  # newer agents may report more

    device_id: str
    cpu: dict[str, Any]
    memory: dict[str, Any]
    disk: dict[str, Any]
    apps: list[dict[str, Any]]
    timestamp: float


