"""Which databroker an app is wired to, from what detection found on the device (pure)."""

from sdv_studio.core.deploy.kuksa_wiring import choose
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
    assert choose(MANIFEST, {"listening": [1883]}, None, [_broker(1883, "mqtt")]).start_fallback
    taken = choose(MANIFEST, {"listening": [55555]}, None, [])
    assert not taken.start_fallback and taken.how == "port 55555 in use on the device"
