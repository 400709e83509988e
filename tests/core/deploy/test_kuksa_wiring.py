"""Which broker an app is wired to, from the package's kuksaConfig and what listens on the device."""

from __future__ import annotations

import pytest

from sdv_studio.core.deploy.kuksa_wiring import choose
from sdv_studio.core.deploy.orchestrator import DeployError


def _manifest(**kuksa: object) -> dict:
    return {"kuksaConfig": {"brokerAutoDetect": True, "fallbackBroker": True, **kuksa}}


def test_a_broker_listening_on_the_device_is_used_when_detection_is_on() -> None:
    wiring = choose(_manifest(), {"listening": [22, 55555]}, None)
    assert (wiring.broker, wiring.start_fallback, wiring.how) == ("127.0.0.1:55555", False,
                                                                   "databroker found on the device")


def test_detection_off_starts_sdv_studios_broker_instead_of_detecting() -> None:
    wiring = choose(_manifest(brokerAutoDetect=False), {"listening": [22, 1883]}, None)
    assert wiring.start_fallback and not wiring.with_mqtt


def test_detection_off_with_the_port_taken_is_refused_with_what_to_do() -> None:
    with pytest.raises(DeployError, match="port 55555 on the device is taken; use that broker with --broker"):
        choose(_manifest(brokerAutoDetect=False), {"listening": [55555]}, None)


def test_detection_and_fallback_off_without_an_address_is_refused() -> None:
    with pytest.raises(DeployError, match="give one with --broker"):
        choose(_manifest(brokerAutoDetect=False, fallbackBroker=False), {"listening": [55555]}, None)
    given = choose(_manifest(brokerAutoDetect=False, fallbackBroker=False), {"listening": []}, "10.0.0.5:55555")
    assert given.broker == "10.0.0.5:55555"
    url = choose(_manifest(brokerAutoDetect=False, customBrokerUrl="grpc://10.0.0.6:55556"), {}, None)
    assert url.broker == "10.0.0.6:55556"
