"""The list of command modules; each exposes ``register(subparsers)``."""

from __future__ import annotations

from types import ModuleType

from sdv_studio.cli import (
    apps_cmd,
    broker_cmd,
    brokers_cmd,
    deploy_cmd,
    deployments_cmd,
    devices_cmd,
    export_cmd,
    metrics_cmd,
    monitor_cmd,
    package_cmd,
    scan_cmd,
    serve_cmd,
)

MODULES: list[ModuleType] = [
    package_cmd,
    scan_cmd,
    devices_cmd,
    brokers_cmd,
    broker_cmd,
    deploy_cmd,
    apps_cmd,
    metrics_cmd,
    monitor_cmd,
    deployments_cmd,
    export_cmd,
    serve_cmd,
]
