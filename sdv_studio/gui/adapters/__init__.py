"""The GUI's bindings to the core engines, one module per engine, Qt-free.

Pages talk only to these: each module turns its engine's API into the small typed event streams
the pages render, so swapping or upgrading an engine touches one file here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdv_studio.gui.adapters.brokers import BrokerEngine
from sdv_studio.gui.adapters.deployer import DeployEngine
from sdv_studio.gui.adapters.discovery import DiscoveryEngine
from sdv_studio.gui.adapters.monitor import MonitorEngine
from sdv_studio.gui.adapters.packager import Packager


@dataclass
class Engines:
    packager: Packager
    discovery: DiscoveryEngine
    brokers: BrokerEngine
    deployer: DeployEngine
    monitor: MonitorEngine


def default_engines() -> Engines:
    from sdv_studio.gui.adapters import brokers, deployer, discovery, monitor, packager

    approvals = discovery.Approvals()  # host keys and passwords given once serve scan and deploy
    return Engines(packager=packager.CorePackager(), discovery=discovery.default_engine(approvals),
                   brokers=brokers.default_engine(approvals), deployer=deployer.default_engine(approvals),
                   monitor=monitor.default_engine(approvals))


# What the engines import on first use (paramiko, docker, grpc, the packager's builder), in the
# order the wizard needs them.
HEAVY_MODULES = (
    "sdv_studio.core.packaging.builder",
    "sdv_studio.core.discovery",
    "sdv_studio.core.kuksa.detect",
    "sdv_studio.core.kuksa.on_device",
    "sdv_studio.core.deploy.service",
    "sdv_studio.core.deploy.app_control",
    # Asked on entering Deploy (which wheel sets the chosen devices lack): imported there, it stalled
    # the window ~35 ms (bench/gui.py --fleet).
    "sdv_studio.core.packaging.top_up",
    "sdv_studio.core.monitor",
)


def preload() -> None:
    """Imports the engines' modules ahead of use; meant for a background thread after the window shows."""
    import importlib

    for name in HEAVY_MODULES:
        importlib.import_module(name)
