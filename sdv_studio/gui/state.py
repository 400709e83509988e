"""The wizard's DeploymentState (docs/architecture.md): what it has gathered so far, shared by every page."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sdv_studio.core.deploy.schedule import Schedule
from sdv_studio.core.deploy.waves import WavePlan
from sdv_studio.gui.adapters.deployer import AppOnDevice
from sdv_studio.gui.adapters.discovery import Device

if TYPE_CHECKING:
    from sdv_studio.core.packaging import BuildOptions, BuildResult
    from sdv_studio.core.packaging.sources import AppSource
    from sdv_studio.models.broker import KuksaBrokerInfo


class Step(StrEnum):
    CONFIGURE = "configure"
    PACKAGE = "package"
    DEVICES = "devices"
    KUKSA = "kuksa"
    DEPLOY = "deploy"
    COMPLETE = "complete"


STEPS = tuple(Step)


@dataclass
class DeploymentResult:
    """One device's outcome, as the Deploy page shows it and the report exports it."""

    device: Device
    status: str = "pending"  # pending | deploying | success | error | cancelled | skipped
    progress: int = 0
    stage: str = "pending"
    message: str = "Waiting to start..."
    started: datetime | None = None
    finished: datetime | None = None
    deployment_id: str = ""
    log: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # what the device ended with (the run's record)
    on_device: AppOnDevice | None = None  # what the device last said it runs; None until asked
    schedule: Schedule | None = None  # what the device was asked to wait for before starting the release
    staged: bool = False  # the engine's record: a success that staged the release (the device starts it)

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        end = self.finished or datetime.now(self.started.tzinfo)
        return max(0.0, (end - self.started).total_seconds())


@dataclass
class DeploymentState:
    current_step: Step = Step.CONFIGURE
    source: AppSource | None = None  # what Configure holds, with the editor's code as entry point
    options: BuildOptions | None = None
    app_package: BuildResult | None = None
    selected_devices: list[Device] = field(default_factory=list)
    detected_broker: KuksaBrokerInfo | None = None  # the one selected on the Kuksa page (for tests, "use")
    custom_broker: str = ""  # HOST:PORT every device's app is wired to; empty: each device finds its own
    fallback_broker: bool = True
    vss_version: str = "4.0"
    broker_auto_detect: bool = True
    security: dict[str, object] = field(default_factory=dict)
    # How the update runs, chosen on the Kuksa step before the deployment starts.
    hot_swap: bool | None = None  # None: as the package's deployment.hotSwap says
    rollback_enabled: bool = True
    wave_plan: WavePlan | None = None  # None: every device at once
    schedule: Schedule | None = None  # None: start at once; else stage, and the device starts it when it holds
    deployment_results: dict[str, DeploymentResult] = field(default_factory=dict)

    def broker_address(self) -> str | None:
        """What every device is wired to; None lets the engine detect one per device (or fall back)."""
        return self.custom_broker.strip() or None

    def choose_kuksa(self, custom_broker: str, fallback_broker: bool, vss_version: str) -> None:
        """The Kuksa step's choices. The package carries the last two (the engine wires each device from
        its kuksaConfig, and the VSS version shapes the vehicle model), so the build options follow them."""
        self.custom_broker = custom_broker.strip()
        self.fallback_broker = fallback_broker
        self.vss_version = vss_version
        if self.options is not None:
            self.options = replace(self.options, vss=vss_version, fallback_broker=fallback_broker)

    def kuksa_rebuild(self) -> str | None:
        """The Kuksa step's choices the built package does not carry, as words for the log: it must be
        built again from ``source`` with ``options``. None when it carries them, or there is nothing to build."""
        if self.app_package is None or self.source is None or self.options is None:
            return None
        built = self.app_package.manifest.get("kuksaConfig")
        built = built if isinstance(built, dict) else {}
        if built.get("vssVersion") == self.vss_version and built.get("fallbackBroker") == self.fallback_broker:
            return None
        return f"VSS {self.vss_version}, fallback databroker {'on' if self.fallback_broker else 'off'}"

    def package_hot_swap(self) -> bool:
        """The package's own choice (its manifest's deployment.hotSwap), which the engine follows unless told."""
        deployment = self.app_package.manifest.get("deployment") if self.app_package else None
        return bool(deployment.get("hotSwap", False)) if isinstance(deployment, dict) else False

    def runs_hot_swap(self) -> bool:
        return self.package_hot_swap() if self.hot_swap is None else self.hot_swap

    def reset(self) -> None:
        """Start over: keep nothing from the last run."""
        self.__init__()  # type: ignore[misc]
