"""DeviceInfo: one device as discovery reports it (docs/interface.md: the guide's fields plus what a user
needs to act)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from sdv_studio.models.base import CamelModel
from sdv_studio.models.broker import KuksaBrokerInfo

DeviceType = Literal["jetson-orin", "linux-generic", "automotive-prototype", "unknown"]
DeviceStatus = Literal["online", "offline", "error"]
Runtime = Literal["docker", "native", "both"]
Architecture = Literal["arm64", "x86_64", "unknown"]
Source = Literal["mdns", "sweep", "probe", "inventory"]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class DeviceCapabilities(CamelModel):
    gpu: bool = False
    kuksa: bool = False
    memory: str = "unknown"  # human form, e.g. "7.6GB" (docs/interface.md, DeviceInfo)
    storage: str = "unknown"  # free space where apps will live
    memory_bytes: int | None = None
    storage_bytes: int | None = None
    docker_version: str | None = None  # the engine this SSH user can reach


class DeviceInfo(CamelModel):
    id: str
    name: str
    type: DeviceType = "unknown"
    ip: str
    status: DeviceStatus = "online"
    # None when neither Python with venv nor a usable engine is there (see reason).
    runtime: Runtime | None = None
    architecture: Architecture = "unknown"
    capabilities: DeviceCapabilities = Field(default_factory=DeviceCapabilities)
    last_seen: datetime = Field(default_factory=utc_now)

    hostname: str | None = None
    os: str | None = None
    python: str | None = None  # version of python3 on the device
    python_venv: bool | None = None  # `python3 -m venv` will work
    port: int = 22
    user: str | None = None
    compatible: bool | None = None  # None until probed
    reason: str | None = None  # why incompatible, offline or in error
    notes: list[str] = Field(default_factory=list)  # worth knowing, not blocking (e.g. docker denied)
    sources: list[Source] = Field(default_factory=list)
    host_key_fingerprint: str | None = None  # SHA256:… as OpenSSH prints it
    properties: dict[str, str] = Field(default_factory=dict)  # mDNS TXT properties, when advertised
    host_key_type: str | None = None  # e.g. ssh-ed25519, with the fingerprint of a key not trusted yet
    brokers: list[KuksaBrokerInfo] = Field(default_factory=list)  # answering on the device, loopback included
