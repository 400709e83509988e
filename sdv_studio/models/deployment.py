"""Deployments as the API shows them (POST /api/deployments, GET /api/deployments/{id}; docs/interface.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer

from sdv_studio.models.base import CamelModel
from sdv_studio.models.broker_credentials import MAX_CA, MAX_TOKEN, check_ca, check_token

# "interrupted": the program that ran it ended (killed, crashed, power lost) before it finished.
DeploymentStatus = Literal["pending", "in-progress", "completed", "failed", "cancelled", "interrupted"]
# "skipped": an earlier wave stopped the rollout before this device's; nothing was done on it.
DeviceStatus = Literal["pending", "deploying", "success", "error", "cancelled", "skipped"]
# "completed": its failures stayed within --max-failed; "failed": they did not, and the rollout stopped.
WaveStatus = Literal["pending", "in-progress", "completed", "failed", "cancelled", "skipped"]
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
    force: bool = Field(default=False, description="replace a version whose package said deployment.otaEnabled: "
                        "false, which pins it on the device")
    waves: str | list[int | str] | None = Field(
        default=None, description="roll out in waves: where each ends, cumulatively, as a count or a percentage "
        "of the devices, e.g. \"1,25%,100%\" or [1, \"25%\", \"100%\"]")
    max_failed: int | str = Field(default=0, description="devices of one wave that may fail before the rollout "
                                  "stops and later waves are skipped: a count, or a percentage such as \"20%\"")
    pause_between: float = Field(default=0.0, ge=0, le=86400, description="seconds between waves")
    rollback_wave: bool = Field(default=False, description="when a wave stops the rollout, roll its successful "
                                "devices back to their previous version")
    when: Literal["idle"] | None = Field(
        default=None, description="a scheduled update: install the release but start it only when the app is idle "
        "on the device, when idleCondition holds on its databroker")
    idle_condition: str | None = Field(default=None, max_length=1000, description="with when: VSS comparisons "
                                       "joined by and, e.g. \"Vehicle.Speed == 0\" (the default)")
    at: str | None = Field(default=None, max_length=32, description="a scheduled update: install the release but "
                           "start it only within this daily window of the device's local time, \"HH:MM-HH:MM\"")
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
    staged: bool = Field(default=False, description="a scheduled update (when, at): installed and not started; the "
                         "device starts it when its schedule holds (status shows it staged until then)")
    logs: list[str] = Field(default_factory=list, description="the tail of the app's log when it failed")
    security: DeviceSecurity | None = Field(default=None, description="what this device enforced, once deployed")


class DeploymentWave(CamelModel):
    """One wave of a rollout: its devices, and how many of them failed."""

    index: int = Field(ge=1, description="from 1, in the order the waves run")
    devices: list[str]
    status: WaveStatus = "pending"
    failed: int = Field(default=0, ge=0)


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
    waves: list[DeploymentWave] | None = None  # only when rolled out in waves

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
                row.message = f"Interrupted at {row.stage}; {self._left_running(row.stage)}"
                row.end_time = row.end_time or utc_now()
        self.status = "interrupted"
        self.end_time = self.end_time or utc_now()

    def _left_running(self, stage: str) -> str:
        """What a device runs after a deployment that stopped at ``stage`` (nothing changes on it before
        the install; from then on the device may finish, or roll back, without the program)."""
        if stage in ("pending", "compatibility", "transfer"):
            return "nothing was installed: the device runs what it ran before"
        return (f"the device runs {self.app_version} if it got that far and it passed its health gate, else "
                "the version before (sdv-studio status shows which)")


class AppHealth(BaseModel):
    """The last health check of a running app, in the guide's HealthChecker fields (snake_case, as
    the guide spells them). ``kuksa_connection`` is null for an app that uses no databroker."""

    model_config = ConfigDict(extra="forbid")

    kuksa_connection: bool | None = None
    app_running: bool
    last_check: str | None = None
    reason: str = ""

    @model_serializer(mode="plain")
    def _every_field(self) -> dict[str, Any]:
        # All four, nulls included: a status line has the same shape whatever the app.
        return {"kuksa_connection": self.kuksa_connection, "app_running": self.app_running,
                "last_check": self.last_check, "reason": self.reason}


class StagedCheck(CamelModel):
    """The device's last look at a staged release's condition."""

    at: str | None = None
    holds: bool | None = None
    values: dict[str, Any] | None = Field(default=None, description="the signals' values read (or the local time)")
    error: str | None = Field(default=None, description="why the condition could not be checked")


class AppState(CamelModel):
    """An app on a device, as `sdv-studio status --json` shows it: ``running`` (its last health check
    passed), ``degraded`` (up, but the check failed: its databroker unreachable, say), ``crashed``
    (exited, being restarted), ``stopped`` or ``error``; or ``staged``: a version installed and not
    started, which the device starts when ``condition`` holds (a second entry beside the one that runs)."""

    name: str
    version: str | None = None
    status: Literal["running", "degraded", "stopped", "crashed", "error", "staged"]
    runtime: Literal["native", "docker"] = "native"
    pid: int | None = None
    container_id: str | None = None
    started_at: str | None = None
    restarts: int = 0
    health: AppHealth | None = None
    condition: str | None = Field(default=None, description="staged: the VSS condition or HH:MM-HH:MM window "
                                  "(the device's local time) it starts at")
    staged_at: str | None = None
    last_check: StagedCheck | None = Field(default=None, description="staged: the device's last look at the condition")
    last_staged: dict[str, Any] | None = Field(
        default=None, description="how the device's last switch to a staged release ended: release, version, "
        "outcome (started or failed), reason, at")


class DeviceApps(CamelModel):
    device_id: str
    apps: list[AppState] = Field(default_factory=list)
    error: str | None = None
