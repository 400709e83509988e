"""Everything a request handler needs, made once per app: settings and the core's stores."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from sdv_studio.api.deployment_runs import Deployments
from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.inventory import Inventory
from sdv_studio.core.packaging.store import PackageStore


@dataclass
class ApiContext:
    settings: ApiSettings
    store: PackageStore = field(default_factory=PackageStore)
    inventory: Inventory = field(default_factory=Inventory)
    deployments: Deployments = field(default_factory=Deployments)
    builds: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.builds = asyncio.Semaphore(max(1, self.settings.build_slots))


def context(connection: HTTPConnection) -> ApiContext:
    """The FastAPI dependency (for HTTP routes and WebSockets alike)."""
    ctx: ApiContext = connection.app.state.ctx
    return ctx
