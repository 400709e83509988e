"""The broker's command-line options, shared by ``sdv-studio broker`` and ``python -m sdv_studio.broker``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sdv_studio.broker.bench import DEFAULT_DELAY_MS
from sdv_studio.broker.server import DATABROKER_PORT, MQTT_PORT, BrokerOptions


def _shipped_vss(problems: list[str]) -> Path | None:
    try:
        from sdv_studio import shipped
    except ImportError:  # a device's broker-only wheel, which the deployer always starts with --vss
        problems.append("--vss: required: this install of the broker ships no VSS catalogue")
        return None
    return shipped.default_vss()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DATABROKER_PORT, help=f"gRPC port (default {DATABROKER_PORT})")
    parser.add_argument("--vss", metavar="PATH", help="VSS JSON catalogue (default: the shipped one)")
    mqtt = parser.add_mutually_exclusive_group()
    mqtt.add_argument("--mqtt-port", type=int, default=MQTT_PORT,
                      help=f"MQTT port for Velocitas apps (default {MQTT_PORT})")
    mqtt.add_argument("--no-mqtt", action="store_true", help="do not run an MQTT broker")
    parser.add_argument("--insecure", action="store_true", help="plain gRPC without TLS (the default)")
    parser.add_argument("--tls-cert", metavar="C", help="server certificate (PEM); needs --tls-private-key")
    parser.add_argument("--tls-private-key", metavar="K", help="server private key (PEM)")
    parser.add_argument("--jwt-public-key", metavar="P", help="verify RS256 JWTs with this public key (PEM)")
    bench = parser.add_argument_group(
        "bench mode",
        "With no vehicle behind the broker, an actuator's new target becomes its current value after a short "
        "delay, as in the digital.auto playground, unless a provider has claimed the actuator.",
    )
    bench.add_argument("--no-mock-actuators", action="store_true",
                       help="leave current values of actuators to providers (no bench mode)")
    bench.add_argument("--mock-delay", type=int, metavar="MS", default=DEFAULT_DELAY_MS,
                       help=f"delay before a target becomes the current value (default {DEFAULT_DELAY_MS} ms)")
    bench.add_argument("--signals", metavar="FILE", help='initial values, a JSON object {"Vehicle.Speed": 0.0, …}')


def _existing(value: str | None, option: str, problems: list[str]) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        problems.append(f"{option}: no such file: {value}")
    return path


def options_from_args(args: argparse.Namespace) -> tuple[BrokerOptions | None, list[str]]:
    """The options, or None and one line per problem."""
    problems: list[str] = []
    for name, port in (("--port", args.port), ("--mqtt-port", args.mqtt_port)):
        if not 0 <= port <= 65535:
            problems.append(f"{name}: must be between 0 and 65535, got {port}")
    if args.mock_delay < 0:
        problems.append(f"--mock-delay: must be 0 or more milliseconds, got {args.mock_delay}")
    if args.insecure and (args.tls_cert or args.tls_private_key):
        problems.append("--insecure: cannot be combined with --tls-cert/--tls-private-key")
    if bool(args.tls_cert) != bool(args.tls_private_key):
        problems.append("--tls-cert and --tls-private-key: give both or neither")
    vss = _existing(args.vss, "--vss", problems) if args.vss else _shipped_vss(problems)
    cert = _existing(args.tls_cert, "--tls-cert", problems)
    key = _existing(args.tls_private_key, "--tls-private-key", problems)
    jwt = _existing(args.jwt_public_key, "--jwt-public-key", problems)
    signals = _existing(args.signals, "--signals", problems)
    if problems or vss is None:
        return None, problems
    options = BrokerOptions(
        vss_path=vss,
        address=args.address,
        port=args.port,
        mqtt_port=None if args.no_mqtt else args.mqtt_port,
        tls_cert=cert,
        tls_private_key=key,
        jwt_public_key=jwt,
        mock_actuators=not args.no_mock_actuators,
        mock_delay=args.mock_delay / 1000,
        signals=signals,
    )
    return options, []
