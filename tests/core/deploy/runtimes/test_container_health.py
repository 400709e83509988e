"""A container's health as status shows it: the probe's printed answer, and the engine's last check."""

from __future__ import annotations

import json

from sdv_studio.core.deploy.runtimes.container import app_answer, container_health

DEGRADED = {"kuksa_connection": False, "app_running": True, "last_check": "2026-01-02T03:04:05Z",
            "reason": "databroker 127.0.0.1:55555 not reachable: connection refused", "status": "degraded"}


def test_the_probes_output_is_the_apps_answer_or_its_own_complaint() -> None:
    assert app_answer(json.dumps(DEGRADED) + "\n") == DEGRADED
    assert app_answer("health endpoint: <urlopen error [Errno 111] Connection refused>\n") == {
        "reason": "health endpoint: <urlopen error [Errno 111] Connection refused>"}
    assert app_answer("") == {}


def test_the_engines_last_check_becomes_the_guides_fields() -> None:
    failed = container_health(True, {"ExitCode": 1, "End": "2026-01-02T03:04:05.123456789Z",
                                     "Output": json.dumps(DEGRADED)})
    assert failed == {"failed": True, "kuksa_connection": False, "app_running": True,
                      "last_check": "2026-01-02T03:04:05Z", "reason": DEGRADED["reason"]}
    silent = container_health(True, {"ExitCode": 1, "End": "2026-01-02T03:04:05Z", "Output": ""})
    assert silent is not None and silent["reason"] == "health check exit code 1" and silent["kuksa_connection"] is None
    answer = '{"kuksa_connection": true}'
    passed = container_health(True, {"ExitCode": 0, "End": "2026-01-02T03:04:05Z", "Output": answer})
    assert passed is not None and not passed["failed"] and passed["kuksa_connection"] is True and passed["reason"] == ""
    assert container_health(True, None) is None  # the engine has not run it (podman without systemd never does)
