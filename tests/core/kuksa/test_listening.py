"""/proc/net/tcp lines to listening ports: where a broker can be reached from."""

from sdv_studio.core.kuksa.listening import Listener, parse_listening


def test_loopback_any_and_lan_binds() -> None:
    text = ("0100007F:D903 00000000:075B 0C0012C6:1F91 "
            "00000000000000000000000001000000:1F90 "  # ::1
            "0000000000000000FFFF00000100007F:B038")  # ::ffff:127.0.0.1, as gRPC binds 127.0.0.1
    assert parse_listening(text) == {
        55555: Listener(55555, "127.0.0.1", True),
        1883: Listener(1883, "127.0.0.1", False),
        8081: Listener(8081, "198.18.0.12", False),
        8080: Listener(8080, "::1", True),
        45112: Listener(45112, "127.0.0.1", True),
    }


def test_garbage_is_skipped() -> None:
    assert parse_listening("nonsense 0100007F: ZZ:0016\n") == {}
