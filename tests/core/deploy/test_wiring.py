"""Which databroker an app is wired to, from what detection found on the device (pure)."""

import pytest

from sdv_studio.core.deploy.kuksa_wiring import choose
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.models.broker import KuksaBrokerInfo

MANIFEST = {"kuksaConfig": {"fallbackBroker": True}}


def _broker(port: int, kind: str = "databroker") -> KuksaBrokerInfo:
    return KuksaBrokerInfo(host="10.0.0.5", port=port, kind=kind, name="databroker", version="0.6.0",  # type: ignore[arg-type]
                           response_time=1.0, apis=["kuksa.val.v2"], local_only=True)


def test_a_databroker_on_the_device_loopback_is_used() -> None:
    wiring = choose(MANIFEST, {"listening": [55555]}, None, [_broker(55555)])
    assert (wiring.broker, wiring.start_fallback) == ("127.0.0.1:55555", False)
    assert wiring.how == "databroker found on the device (databroker 0.6.0; kuksa.val.v2)"


def test_a_databroker_on_another_port_is_used_and_mqtt_is_not_a_databroker() -> None:
    wiring = choose(MANIFEST, {"listening": [1883, 55556]}, None, [_broker(1883, "mqtt"), _broker(55556)])
    assert wiring.broker == "127.0.0.1:55556" and not wiring.start_fallback


def test_nothing_answering_starts_the_fallback_and_a_taken_port_does_not() -> None:
    fallback = choose(MANIFEST, {"listening": [1883]}, None, [_broker(1883, "mqtt")])
    assert fallback.start_fallback and fallback.ours  # it verifies the tokens this workstation mints
    taken = choose(MANIFEST, {"listening": [55555]}, None, [])
    assert not taken.start_fallback and taken.how == "port 55555 in use on the device" and not taken.ours


def _detection_off(**kuksa: object) -> dict:
    return {"kuksaConfig": {"brokerAutoDetect": False, "fallbackBroker": True, **kuksa}}


def test_detection_off_starts_sdv_studios_broker_even_beside_one_found() -> None:
    wiring = choose(_detection_off(), {"listening": [22, 1883, 55556]}, None, [_broker(55556)])
    assert wiring.start_fallback and wiring.broker == "127.0.0.1:55555" and not wiring.with_mqtt


def test_detection_off_with_the_port_taken_is_refused_with_what_to_do() -> None:
    with pytest.raises(DeployError, match="port 55555 on the device is taken; use that broker with --broker"):
        choose(_detection_off(), {"listening": [55555]}, None, [_broker(55555)])


def test_detection_and_fallback_off_need_an_address() -> None:
    with pytest.raises(DeployError, match="give one with --broker"):
        choose(_detection_off(fallbackBroker=False), {"listening": [55555]}, None, [_broker(55555)])
    assert choose(_detection_off(fallbackBroker=False), {}, "10.0.0.5:55555").broker == "10.0.0.5:55555"
    url = choose(_detection_off(customBrokerUrl="grpc://10.0.0.6:55556"), {}, None)
    assert url.broker == "10.0.0.6:55556"
