"""Watching deployed apps: each device's metrics (the agent samples them, docs/monitoring.md) and
the live values of an app's signals, for the GUI's Monitor view, ``sdv-studio monitor`` and the API.

``sample_metrics(device, trust, timeout)`` answers once; ``monitor(devices, trust, Watch(app=…))``
streams events (``events``) per device, reconnecting by itself, until the caller stops iterating.
"""

from sdv_studio.core.monitor.events import (
    BrokerDown,
    LinkDown,
    LinkUp,
    MetricsSample,
    MonitorEvent,
    SignalUpdate,
    Subscribed,
    event_to_json,
)
from sdv_studio.core.monitor.metrics import sample_metrics
from sdv_studio.core.monitor.watch import Watch, monitor, monitor_device

__all__ = ["BrokerDown", "LinkDown", "LinkUp", "MetricsSample", "MonitorEvent", "SignalUpdate", "Subscribed",
           "Watch", "event_to_json", "monitor", "monitor_device", "sample_metrics"]
