"""KuksaBrokerInfo: one broker found by detection (docs/interface.md: the guide's fields plus apis, tls, auth)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sdv_studio.models.base import CamelModel

BrokerKind = Literal["databroker", "mqtt", "viss"]


class KuksaBrokerInfo(CamelModel):
    host: str
    port: int
    kind: BrokerKind = "databroker"
    name: str | None = None  # what GetServerInfo calls the server
    version: str = "unknown"
    status: Literal["online", "offline"] = "online"
    response_time: float  # milliseconds, first answer of the probe
    vss_version: str | None = None  # from Vehicle.VersionVSS.*
    apis: list[str] = Field(default_factory=list)  # which of kuksa.val.v2, kuksa.val.v1, sdv.databroker.v1 answer
    tls: bool = False
    auth: bool = False  # the broker answered UNAUTHENTICATED to an anonymous read
    # Found on a device's loopback (through SSH): only apps on that device can reach it.
    local_only: bool = False
