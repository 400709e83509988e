"""Deployments as the API shows them (POST /api/deployments, GET /api/deployments/{id}; docs/interface.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, field_validator

from sdv_studio.models.base import CamelModel
from sdv_studio.models.broker_credentials import MAX_CA, MAX_TOKEN, check_ca, check_token

# "interrupted": the program that ran it ended (killed, crashed, power lost) before it finished.
DeploymentStatus = Literal["pending", "in-progress", "completed", "failed", "cancelled", "interrupted"]
DeviceStatus = Literal["pending", "deploying", "success", "error", "cancelled"]
DeploymentMode = Literal["hot-swap", "standard"]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class DeploymentRequest(CamelModel):
    """The body of POST /api/deployments."""

    package_id: str = Field(min_length=1, max_length=64, pattern=r"^pkg_[0-9a-f]{8,64}$")
    devices: list[str] = Field(min_length=1, max_length=256)
    deployment_mode: DeploymentMode | None = Field(
        default=None, description="hot-swap or standard; omitted: as the package's deployment.hotSwap says")
    rollback_enabled: bool = True
    broker: str | None = Field(default=None, description="HOST:PORT of a databroker to wire the app to")
    broker_token: str | None = Field(default=None, max_length=MAX_TOKEN + 64,
                                     description="a JWT the app presents to its databroker, passed as given")
    broker_ca: str | None = Field(default=None, max_length=MAX_CA,
                                  description="PEM of the CA the databroker's TLS certificate chains to")

    @field_validator("broker_token")
    @classmethod
    def _token(cls, token: str | None) -> str | None:
        return None if token is None else check_token(token)

    @field_validator("broker_ca")
    @classmethod
    def _ca(cls, pem: str | None) -> str | None:
        return None if pem is None else check_ca(pem.encode()).decode()

    @field_validator("devices")
    @classmethod
    def _devices_are_named(cls, devices: list[str]) -> list[str]:
        cleaned = [d.strip() for d in devices]
        if any(not d for d in cleaned):
            raise ValueError("device names must not be empty")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("each device may be named once")
        return cleaned


class DeviceSecurity(CamelModel):
    """What one device enforced of the package's security settings and resource limits
    (docs/security.md): each measure in ``enforced`` or, with the reason, in ``not_enforced``."""

    sandbox_level: str = "basic"
    data_access: str = "restricted"
    enforced: list[str] = Field(default_factory=list)
    not_enforced: list[str] = Field(default_factory=list)
    memory_limit: int | None = Field(default=None, description="bytes")
    memory_enforced: bool = False
    cpu_limit: float | None = Field(default=None, description="cores")
    cpu_enforced: bool = False
    limits_by: str = Field(default="none", description="container engine, systemd, rlimit or none")


class DeviceDeployment(CamelModel):
    """One device's part of a deployment."""

    device_id: str
    status: DeviceStatus = "pending"
    progress: int = Field(default=0, ge=0, le=100)
    message: str = "Waiting to start..."
    stage: str = "pending"
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: str | None = None
    runtime: Literal["native", "docker"] | None = None
    version: str | None = None
    previous_version: str | None = None
    rolled_back: bool = False
    logs: list[str] = Field(default_factory=list, description="the tail of the app's log when it failed")
    security: DeviceSecurity | None = Field(default=None, description="what this device enforced, once deployed")


class Deployment(CamelModel):
    deployment_id: str
    status: DeploymentStatus = "pending"
    package_id: str
    app_name: str
    app_version: str
    deployment_mode: DeploymentMode = "standard"
    rollback_enabled: bool = True
    start_time: datetime = Field(default_factory=utc_now)
    end_time: datetime | None = None
    devices: list[DeviceDeployment] = Field(default_factory=list)

    def device(self, device_id: str) -> DeviceDeployment:
        for dev in self.devices:
            if dev.device_id == device_id:
                return dev
        raise KeyError(device_id)

    def settle(self) -> None:
        """Set the overall status once every device has finished."""
        states = {d.status for d in self.devices}
        if states & {"pending", "deploying"}:
            self.status = "in-progress"
            return
        if states == {"success"}:
            self.status = "completed"
        elif states == {"cancelled"}:
            self.status = "cancelled"
        else:
            self.status = "failed"
        self.end_time = utc_now()


    def interrupt(self) -> None:
        """What a record says once the program that ran it is known to be gone."""
        for row in self.devices:
            if row.status in ("pending", "deploying"):
                row.status = "error"
                row.error = f"interrupted at {row.stage}: the program that was deploying ended"
                row.message = (f"Interrupted at {row.stage}; the device runs the new version or the one before "
                               "(check with sdv-studio status)")
                row.end_time = row.end_time or utc_now()
        self.status = "interrupted"
        self.end_time = self.end_time or utc_now()


class AppState(CamelModel):
    """An app on a device, as `sdv-studio status --json` shows it."""

    name: str
    version: str | None = None
    status: Literal["running", "stopped", "error"]
    runtime: Literal["native", "docker"] = "native"
    pid: int | None = None
    container_id: str | None = None
    started_at: str | None = None
    restarts: int = 0


class DeviceApps(CamelModel):
    device_id: str
    apps: list[AppState] = Field(default_factory=list)
    error: str | None = None
