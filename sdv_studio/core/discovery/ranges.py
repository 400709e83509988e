"""Which addresses a sweep may touch: explicit CIDRs, or this machine's own interface subnets."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network

import ifaddr

from sdv_studio.core.errors import InvalidInput

log = logging.getLogger(__name__)
DEFAULT_WIDEST_PREFIX = 22  # a default range never spans more than a /22 (1022 hosts)
EXPLICIT_WIDEST_PREFIX = 16  # even when asked, a /16 (65534 hosts) is the most one sweep covers


class RangeError(InvalidInput, ValueError):
    """A range given by the user cannot be swept; the message says why."""


def parse_cidrs(texts: Iterable[str]) -> list[IPv4Network]:
    """Explicit ranges: a host address (``10.0.0.5``) or a network (``10.0.0.0/24``)."""
    networks: list[IPv4Network] = []
    for text in texts:
        try:
            net = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError as exc:
            raise RangeError(f"--cidr {text}: not an IPv4 network ({exc})") from exc
        if not isinstance(net, IPv4Network):
            raise RangeError(f"--cidr {text}: IPv6 ranges are too large to sweep; devices there are found by mDNS")
        if net.prefixlen < EXPLICIT_WIDEST_PREFIX:
            raise RangeError(f"--cidr {text}: wider than a /{EXPLICIT_WIDEST_PREFIX}; split it into smaller ranges")
        networks.append(net)
    return _dedupe(networks)


def interface_networks() -> list[IPv4Network]:
    """The IPv4 subnets of this machine's interfaces (the current network namespace's), loopback and
    link-local left out; a subnet wider than a /22 is narrowed to the /22 around our own address."""
    networks: list[IPv4Network] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6
            address = IPv4Address(ip.ip)
            if address.is_loopback or address.is_link_local:
                continue
            prefix = ip.network_prefix
            if prefix < DEFAULT_WIDEST_PREFIX:
                log.warning("%s/%d is wider than a /%d: sweeping only the /%d around %s (use --cidr for more)",
                            address, prefix, DEFAULT_WIDEST_PREFIX, DEFAULT_WIDEST_PREFIX, address)
                prefix = DEFAULT_WIDEST_PREFIX
            networks.append(IPv4Network(f"{address}/{prefix}", strict=False))
    return _dedupe(networks)


def _dedupe(networks: list[IPv4Network]) -> list[IPv4Network]:
    """Drop ranges inside another, so no address is tried twice."""
    kept: list[IPv4Network] = []
    for net in sorted(set(networks), key=lambda n: n.prefixlen):
        if not any(net.subnet_of(k) for k in kept):
            kept.append(net)
    return sorted(kept)


def addresses(networks: Iterable[IPv4Network]) -> Iterator[IPv4Address]:
    """Usable host addresses (no network or broadcast address), range by range."""
    for net in networks:
        yield from net.hosts()


def count(networks: Iterable[IPv4Network]) -> int:
    return sum(max(n.num_addresses - 2, 0) if n.prefixlen < 31 else n.num_addresses for n in networks)
