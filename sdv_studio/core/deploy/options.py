"""How a deployment runs: the choices every face (CLI, GUI, REST API) passes to ``start_deployment``."""

from __future__ import annotations

from dataclasses import dataclass


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
    connect_timeout: float = 15.0
    # Seconds without progress before a transfer or a quick agent call counts as a lost device.
    stall_timeout: float = 20.0
