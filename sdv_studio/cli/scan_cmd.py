"""``sdv-studio scan``: discover devices: mDNS, IP sweep and SSH capability probe."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

from sdv_studio.cli.device_options import add_connection_options
from sdv_studio.core.errors import InvalidInput
from sdv_studio.paths import user_path

if TYPE_CHECKING:  # the core loads only when the command runs: `sdv-studio --help` stays fast
    from sdv_studio.core.discovery import Scanner
    from sdv_studio.models.device import DeviceInfo


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "scan",
        help="discover devices: mDNS, IP sweep and SSH capability probe",
        description="Find devices by mDNS, by sweeping address ranges for SSH and from the saved inventory, "
        "then log in to each one to see what it can run. Without --cidr the subnets of this machine's "
        "interfaces are swept (each at most a /22).",
    )
    parser.add_argument("--cidr", action="append", default=[], metavar="CIDR",
                        help="an IPv4 range to sweep, e.g. 192.168.7.0/24 (repeatable; at most a /16)")
    parser.add_argument("--no-mdns", action="store_true", help="do not browse mDNS")
    parser.add_argument("--no-sweep", action="store_true", help="do not sweep address ranges")
    parser.add_argument("--port", type=int, default=22, help="SSH port to sweep for (default 22)")
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sdv_studio.core.discovery import Scanner, ScanOptions
    from sdv_studio.core.ssh import HostKeyTrust

    problems = []
    if not 0 < args.port < 65536:
        problems.append(f"--port {args.port}: must be 1-65535")
    identity = user_path(args.identity) if args.identity else None
    if identity is not None and not identity.is_file():
        problems.append(f"--identity {args.identity}: no such file")
    if args.timeout <= 0:
        problems.append("--timeout: must be more than 0 seconds")
    if problems:
        raise InvalidInput(problems)
    options = ScanOptions(
        cidrs=args.cidr or None,
        use_sweep=not args.no_sweep,
        use_mdns=not args.no_mdns,
        port=args.port,
        user=args.user,
        key_file=identity,
        trust=HostKeyTrust(accept_new=args.accept_new_host_keys),
        probe_timeout=args.timeout,
    )
    scanner = Scanner(options)
    devices = asyncio.run(_scan(scanner))
    if args.json:
        print(json.dumps({"devices": [d.to_json_dict() for d in devices]}, indent=2))
    else:
        _print_table(devices)
    return 0


async def _scan(scanner: Scanner) -> list[DeviceInfo]:
    """Progress on stderr: one line per device once its probe is done."""
    from sdv_studio.core.discovery import DeviceUpdated, ScanFinished

    if scanner.networks:
        print(f"sweeping {', '.join(map(str, scanner.networks))} for port {scanner.options.port}", file=sys.stderr)
    reported: set[str] = set()
    async for event in scanner.events():
        if isinstance(event, DeviceUpdated) and event.device.ip not in reported:
            d = event.device
            if d.status == "online" and "probe" not in d.sources:
                continue  # seen, not probed yet
            reported.add(d.ip)
            summary = f"{d.type}, {d.runtime or 'no runtime'}, {d.architecture}" if d.status == "online" else d.reason
            print(f"  {d.ip:<15} {d.name}: {d.status}: {summary}", file=sys.stderr)
        elif isinstance(event, ScanFinished):
            online = sum(d.status == "online" for d in event.devices)
            print(f"{len(event.devices)} devices, {online} online, in {event.elapsed:.1f}s", file=sys.stderr)
            return event.devices
    return []


def _print_table(devices: list[DeviceInfo]) -> None:
    rows = [("ID", "NAME", "TYPE", "STATUS", "RUNTIME", "ARCH", "GPU", "KUKSA", "MEMORY", "FREE")]
    for d in devices:
        caps = d.capabilities
        rows.append((d.id, d.name, d.type, d.status, d.runtime or "-", d.architecture, "yes" if caps.gpu else "no",
                     "yes" if caps.kuksa else "no", caps.memory, caps.storage))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for d in devices:
        if d.reason:
            print(f"{d.id}: {d.reason}")
