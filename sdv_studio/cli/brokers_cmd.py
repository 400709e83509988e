"""``sdv-studio brokers``: detect KUKSA databrokers and MQTT brokers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from sdv_studio.cli.device_options import add_json_option
from sdv_studio.core.defaults import BROKER_HOST_TIMEOUT, BROKER_PORT_TIMEOUT, DATABROKER_PORT
from sdv_studio.core.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "brokers",
        help="detect KUKSA databrokers and MQTT brokers",
        description=f"Probe port {DATABROKER_PORT}, the given ports and the common MQTT/VISS ports on each host. "
        "With --device, probe on the device over SSH, its loopback included: a databroker bound to "
        "the device's 127.0.0.1 (KUKSA's default) is found too; nothing is opened on the device.",
    )
    parser.add_argument("--host", action="append", default=[], metavar="H", help="host to probe (repeatable; "
                        "default 127.0.0.1)")
    parser.add_argument("--device", "-d", action="append", default=[], metavar="[USER@]HOST[:PORT]",
                        help="probe on this device over SSH (repeatable; also a saved device's id, or 'local')")
    parser.add_argument("--user", "-u", help="SSH login user for --device (default: the device's saved user)")
    parser.add_argument("--identity", "-i", metavar="KEYFILE", help="SSH private key file for --device")
    parser.add_argument("--accept-new-host-keys", action="store_true",
                        help="trust a device's host key on first use; a changed key is always refused")
    parser.add_argument("--port", action="append", type=int, default=[], metavar="P",
                        help="also probe this port (repeatable)")
    parser.add_argument("--timeout", type=float, default=BROKER_HOST_TIMEOUT, metavar="S", help="time limit per host")
    add_json_option(parser)
    parser.set_defaults(handler=run)


async def _detect(args: argparse.Namespace, hosts: list[str], probe_timeout: float) -> tuple[list, list[str]]:
    """Brokers on ``hosts`` (from here) and on each --device (over SSH); one line per device that failed."""
    from sdv_studio.cli.device_options import host_key_trust, resolve_or_exit
    from sdv_studio.core.kuksa import detect
    from sdv_studio.core.kuksa.on_device import detect_at
    from sdv_studio.core.ssh import SshError

    refs = resolve_or_exit(args) if args.device else []
    trust = host_key_trust(args)
    jobs = [detect_at(ref.target, trust, args.port, probe_timeout, args.timeout) for ref in refs]
    on_hosts, *on_devices = await asyncio.gather(detect.detect(hosts, args.port, probe_timeout, args.timeout),
                                                 *jobs, return_exceptions=True)
    if isinstance(on_hosts, BaseException):
        raise on_hosts
    found, problems = list(on_hosts), []
    for ref, result in zip(refs, on_devices, strict=True):
        if isinstance(result, SshError | TimeoutError):
            problems.append(f"{ref.device_id}: {result}")
        elif isinstance(result, BaseException):
            raise result
        else:
            found += result
    return found, problems


def run(args: argparse.Namespace) -> int:
    problems = [f"--port: must be between 1 and 65535, got {p}" for p in args.port if not 0 < p < 65536]
    problems += [f"--host: must not be empty: {h!r}" for h in args.host if not h.strip()]
    if args.timeout <= 0:
        problems.append(f"--timeout: must be positive, got {args.timeout}")
    if problems:
        raise InvalidInput(problems)
    hosts = [h.strip() for h in args.host] or ([] if args.device else ["127.0.0.1"])
    probe_timeout = min(BROKER_PORT_TIMEOUT, args.timeout)
    found, problems = asyncio.run(_detect(args, hosts, probe_timeout))
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.json:
        print(json.dumps({"brokers": [info.to_json_dict() for info in found]}, indent=2))
        return 1 if problems else 0
    if not found:
        print("no brokers found")
    for info in found:
        extras = [", ".join(info.apis)] if info.apis else []
        extras += [f"VSS {info.vss_version}"] if info.vss_version else []
        extras += ["TLS"] if info.tls else []
        extras += ["auth required"] if info.auth else []
        extras += ["on the device's loopback only"] if info.local_only else []
        version = f" {info.version}" if info.kind == "databroker" else ""
        print(f"{info.host}:{info.port}  {info.kind}{version}  {info.response_time:.1f} ms  " + "  ".join(extras))
    return 1 if problems else 0
