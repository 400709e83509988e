"""A device's metrics as the agent samples them (docs/agent-protocol.md, Metrics; docs/monitoring.md).

camelCase on the wire, except the guide's MetricsCollector fields, spelled as the guide spells them:
``cpu_usage``, ``memory_usage``, ``signal_updates``, ``errors``, ``kuksa_latency``. Unknown figures are
null, not left out: a reader tells "none" (0) from "not measured". Newer agents may report more.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from sdv_studio.models.base import CamelModel

AppHealthState = Literal["running", "degraded", "crashed", "scheduled"]


class _Figures(CamelModel):
    model_config = ConfigDict(extra="allow")

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


class KuksaLatency(_Figures):
    p50: float | None = Field(description="median round trip of a KUKSA call, ms")
    p95: float | None = Field(description="95th percentile, ms")
    calls: int = Field(description="unary KUKSA calls in the window")
    window: float = Field(description="seconds the percentiles cover")


class AppMetrics(_Figures):
    """One app (or service) meant to run on the device."""

    name: str
    kind: Literal["app", "service"] | None = None
    release: str | None = None
    pid: int | None = None
    status: AppHealthState = Field(description="running; degraded: up, its last health check failed; crashed: meant "
                                               "to run and not up (the supervisor restarts it); scheduled")
    health: dict[str, Any] | None = Field(default=None, description="the last health check: kuksa_connection, "
                                                                    "app_running, last_check, reason")
    restarts: int = 0
    started_at: str | None = None
    uptime: float | None = Field(default=None, description="seconds since its process started")
    rss: int | None = Field(default=None, description="resident memory, bytes")
    cpu_seconds: float | None = None
    cpu_usage: float | None = Field(default=None, alias="cpu_usage",
                                    description="% of one core over the last 5 s (as ps and top count)")
    memory_usage: float | None = Field(default=None, alias="memory_usage",
                                       description="rss as % of its memory limit, else of the device's memory")
    memory_limit: int | None = Field(default=None, description="bytes")
    cpu_limit: float | None = Field(default=None, description="cores")
    metered: bool = Field(default=False, description="whether its KUKSA meter reports (false: a service, or a "
                                                     "package made before the meter): the KUKSA figures are null")
    signal_updates: int | None = Field(default=None, alias="signal_updates",
                                       description="updates received in subscriptions plus values written, "
                                                   "since its process started")
    signal_updates_received: int | None = None
    signal_updates_sent: int | None = None
    signal_updates_per_second: float | None = Field(default=None, description="over the last 5 s")
    errors: int | None = Field(default=None, description="failed KUKSA calls since its process started")
    kuksa_latency: KuksaLatency | None = Field(default=None, alias="kuksa_latency")
    kuksa_calls: int | None = None
    last_error: str | None = None


class HistoryPoint(_Figures):
    """One sample: ``apps`` by name, each ``{cpu, rss, status, signalUpdates (per s), errors,
    kuksaCalls, p50, p95}``."""

    t: float = Field(description="seconds since the epoch, the device's clock")
    cpu: float | None = Field(description="% of all the device's cores")
    memory: float = Field(description="% of the device's memory in use")
    apps: dict[str, dict[str, Any]]


class DeviceMetrics(_Figures):
    """What the device agent measured: the device, each app, and the samples asked for."""

    device_id: str
    cpu: dict[str, Any] = Field(description="{percent (of all cores, last 5 s), count, load}")
    memory: dict[str, Any] = Field(description="{total, available, used, percent}")
    disk: dict[str, Any] = Field(description="{path, total, free, used, percent} of the agent's data")
    apps: list[AppMetrics]
    history: list[HistoryPoint] = Field(default_factory=list, description="samples after the time asked for")
    interval: float | None = Field(default=None, description="seconds between samples; null: nothing is sampled "
                                                             "(no app meant to run)")
    timestamp: float
    cpu_usage: float | None = Field(default=None, alias="cpu_usage", description="the device's cpu.percent")
    memory_usage: float | None = Field(default=None, alias="memory_usage", description="the device's memory.percent")

    @classmethod
    def from_agent(cls, device_id: str, answer: dict[str, Any]) -> DeviceMetrics:
        fields = {k: v for k, v in answer.items() if k not in ("ok", "command")}
        return cls.model_validate({**fields, "deviceId": device_id,
                                   "cpu_usage": (answer.get("cpu") or {}).get("percent"),
                                   "memory_usage": (answer.get("memory") or {}).get("percent")})

    def app(self, name: str) -> AppMetrics | None:
        return next((a for a in self.apps if a.name == name), None)
