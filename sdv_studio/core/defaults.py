"""The defaults the faces share (CLI, REST API, desktop app), in one place so that they agree.

A device gets 30 seconds: a device's sshd that looks up the connecting address in a DNS the bench
network lacks can spend 10-25 s before it answers, and an agent upload over a slow link counts
against the same limit; a device that is off fails sooner anyway (no route, refused). The fallback
broker (``sdv_studio.broker``) ships to devices on its own, so it keeps its own copy of the two
broker ports; tests/core/test_defaults.py checks that they agree.
"""

from __future__ import annotations

DEVICE_TIMEOUT = 30.0  # seconds per device: connecting, the agent upload, a quick agent call
DEPLOY_CONCURRENCY: int | None = None  # devices one deployment works on at once; None adapts (deploy/concurrency.py)
PROBE_TIMEOUT = 10.0  # seconds for one device's capability probe during a scan
BROKER_PORT_TIMEOUT = 2.0  # seconds for telling what answers on one port
BROKER_HOST_TIMEOUT = 10.0  # seconds for all of one host's ports
API_PORT = 8765  # sdv-studio serve
DATABROKER_PORT = 55555  # KUKSA databroker, gRPC
MQTT_PORT = 1883  # the MQTT broker Velocitas apps talk to
HANDOFF_PORT = 8766  # the desktop app's hand-off endpoint for web pages (loopback only)
