"""What one running API server is configured with (the ``serve`` options)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sdv_studio.core.defaults import DEPLOY_CONCURRENCY, DEVICE_TIMEOUT
from sdv_studio.core.deploy.targets import ConnectionDefaults
from sdv_studio.core.ssh.trust import HostKeyTrust

# A request's code may be 5MB (models.package.MAX_FILE_BYTES); JSON escaping can double it.
MAX_BODY_BYTES = 12 * 1024**2


@dataclass
class ApiSettings:
    token: str
    connection: ConnectionDefaults = field(default_factory=ConnectionDefaults)
    # Host keys: our known_hosts; with accept_new, first-seen keys are trusted (never changed ones).
    trust: HostKeyTrust = field(default_factory=HostKeyTrust)
    max_body_bytes: int = MAX_BODY_BYTES
    device_timeout: float = DEVICE_TIMEOUT  # per device: connect, probe, metrics
    concurrency: int | None = DEPLOY_CONCURRENCY  # devices worked on at once in one deployment; None adapts
    grace_seconds: float = 3.0  # how long a new version must stay up to count as healthy
    build_slots: int = 1  # package builds at once: they are CPU-bound and the machine is shared
    shutdown_timeout: float = 30.0  # how long cancelled deployments may take to settle on shutdown
    cors_origins: tuple[str, ...] = ()  # web pages that may call the API from a browser ("*": any)
