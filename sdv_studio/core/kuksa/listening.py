"""Which TCP ports a Linux device listens on, and where, from /proc/net/tcp{,6}; pure functions.

A databroker binds 127.0.0.1 by default, so a port seen only on loopback is still a broker the
apps on that device can use, though nothing on the LAN can reach it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# POSIX sh: the local address of every listening socket (state 0A), one a line, e.g. 0100007F:D903.
LISTENING_COMMAND = "awk 'FNR > 1 && $4 == \"0A\" {print $2}' /proc/net/tcp /proc/net/tcp6 2>/dev/null"


@dataclass(frozen=True)
class Listener:
    port: int
    connect_host: str  # where, on the device, a connection to the port goes
    local_only: bool  # bound to loopback only: unreachable from the network


def _address(hex_addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_addr)
    # The kernel prints each 32-bit word in host (little-endian) order.
    address = ipaddress.ip_address(b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)))
    # gRPC binds 127.0.0.1 as a dual-stack socket: ::ffff:127.0.0.1 in /proc/net/tcp6.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def parse_listening(text: str) -> dict[int, Listener]:
    """``LISTENING_COMMAND``'s output (space or newline separated) as port → Listener."""
    bound: dict[int, set[ipaddress.IPv4Address | ipaddress.IPv6Address]] = {}
    for entry in text.split():
        hex_addr, sep, hex_port = entry.partition(":")
        try:
            address, port = _address(hex_addr), int(hex_port, 16)
        except ValueError:
            continue
        if sep and address.version in (4, 6):
            bound.setdefault(port, set()).add(address)
    listeners: dict[int, Listener] = {}
    for port, addresses in bound.items():
        local_only = all(a.is_loopback for a in addresses)
        if local_only or any(a.is_unspecified or a.is_loopback for a in addresses):
            host = "::1" if all(a.version == 6 for a in addresses) else "127.0.0.1"
        else:
            host = str(min(addresses, key=str))  # bound to one LAN address only
        listeners[port] = Listener(port, host, local_only)
    return listeners
