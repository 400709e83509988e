"""``sdv-studio brokers``: detect KUKSA databrokers and MQTT brokers."""

from __future__ import annotations

import argparse
import asyncio
import json

from sdv_studio.cli.device_options import add_json_option
from sdv_studio.cli.errors import invalid


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "brokers",
        help="detect KUKSA databrokers and MQTT brokers",
        description="Probe port 55555, the given ports and the common MQTT/VISS ports on each host.",
    )
    parser.add_argument("--host", action="append", default=[], metavar="H", help="host to probe (repeatable; "
                        "default 127.0.0.1)")
    parser.add_argument("--port", action="append", type=int, default=[], metavar="P",
                        help="also probe this port (repeatable)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="time limit per host")
    add_json_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sdv_studio.core import kuksa_detect

    problems = [f"--port: must be between 1 and 65535, got {p}" for p in args.port if not 0 < p < 65536]
    problems += [f"--host: must not be empty: {h!r}" for h in args.host if not h.strip()]
    if args.timeout <= 0:
        problems.append(f"--timeout: must be positive, got {args.timeout}")
    if problems:
        raise invalid(problems)
    hosts = [h.strip() for h in args.host] or ["127.0.0.1"]
    probe_timeout = min(kuksa_detect.DEFAULT_PROBE_TIMEOUT, args.timeout)
    found = asyncio.run(kuksa_detect.detect(hosts, args.port, probe_timeout, args.timeout))
    if args.json:
        print(json.dumps({"brokers": [info.to_json_dict() for info in found]}, indent=2))
        return 0
    if not found:
        print("no brokers found")
    for info in found:
        extras = [", ".join(info.apis)] if info.apis else []
        extras += [f"VSS {info.vss_version}"] if info.vss_version else []
        extras += ["TLS"] if info.tls else []
        extras += ["auth required"] if info.auth else []
        version = f" {info.version}" if info.kind == "databroker" else ""
        print(f"{info.host}:{info.port}  {info.kind}{version}  {info.response_time:.1f} ms  " + "  ".join(extras))
    return 0
