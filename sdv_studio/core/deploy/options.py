"""How a deployment runs: the choices every face (CLI, GUI, REST API) passes to ``start_deployment``."""

from __future__ import annotations

from dataclasses import dataclass

from sdv_studio.core.defaults import DEVICE_TIMEOUT
from sdv_studio.core.deploy.schedule import Schedule


@dataclass(frozen=True)
class DeployOptions:
    hot_swap: bool | None = None  # None: as the package's deployment.hotSwap says
    rollback: bool = True
    broker: str | None = None  # HOST:PORT; None = detect, else the fallback broker
    # For a databroker that is not SDV Studio's (docs/security.md): the token the app presents,
    # as given, and the PEM of the CA its TLS certificate chains to.
    broker_token: str | None = None
    broker_ca: bytes | None = None
    grace_seconds: float = 3.0
    health_timeout: float = 30.0
    # Seconds between the device's re-checks of a running app's health (the guide's 30).
    health_interval: float = 30.0
    # Replace a version whose package said deployment.otaEnabled: false.
    force: bool = False
    connect_timeout: float = DEVICE_TIMEOUT
    # Seconds without progress before a transfer or a quick agent call counts as a lost device.
    stall_timeout: float = 20.0
    # Announce the device as _sdv-agent._tcp over mDNS after the deploy, on the interface this
    # workstation reached it through. Opt-in: a device on a car's or a lab's network stays quiet.
    advertise: bool = False
    # Seconds to wait while another deployment (from any workstation) holds the device.
    lock_wait: float = 60.0
    # Stage the release and let the device start it when this holds (``--when idle``, ``--at``);
    # None: start it now.
    schedule: Schedule | None = None
