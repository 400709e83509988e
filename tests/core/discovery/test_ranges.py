"""Which addresses a sweep may touch (no network: ifaddr is replaced by a fixed interface list)."""

from __future__ import annotations

from ipaddress import IPv4Network

import ifaddr
import pytest

from sdv_studio.core.discovery import ranges
from sdv_studio.core.discovery.ranges import RangeError, count, interface_networks, parse_cidrs


def test_parse_dedupes_nested_ranges_and_accepts_hosts() -> None:
    nets = parse_cidrs(["10.1.0.0/24", "10.1.0.128/25", "10.2.0.7"])
    assert nets == [IPv4Network("10.1.0.0/24"), IPv4Network("10.2.0.7/32")]
    assert count(nets) == 255


@pytest.mark.parametrize(
    ("text", "words"),
    [("10.0.0.0/8", "wider than a /16"), ("fe80::/64", "IPv6"), ("banana", "not an IPv4 network")],
)
def test_parse_refuses(text: str, words: str) -> None:
    with pytest.raises(RangeError, match=words):
        parse_cidrs([text])


def _adapter(ip: str, prefix: int) -> ifaddr.Adapter:
    return ifaddr.Adapter("eth0", "eth0", [ifaddr.IP(ip, prefix, "eth0")])


def test_default_ranges_skip_loopback_and_never_exceed_a_22(monkeypatch: pytest.MonkeyPatch) -> None:
    adapters = [_adapter("127.0.0.1", 8), _adapter("169.254.3.4", 16), _adapter("10.20.30.40", 16),
                _adapter("172.16.5.9", 24), ifaddr.Adapter("e", "e", [ifaddr.IP(("fe80::1", 0, 2), 64, "e")])]
    monkeypatch.setattr(ranges.ifaddr, "get_adapters", lambda: adapters)
    assert interface_networks() == [IPv4Network("10.20.28.0/22"), IPv4Network("172.16.5.0/24")]
