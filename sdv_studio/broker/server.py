"""Assemble and run the broker: gRPC services on one port, optional TLS and JWT, optional MQTT.

The gRPC services run on grpcio's thread-pool server: for unary calls it costs less CPU per call
than grpc.aio (no hand-over from grpc's poller thread to the event loop), which is the broker's
throughput. Each open stream (a subscription, a provider) holds a worker thread, so limits.Guard
bounds what one connection can hold; the event loop is left to MQTT and to start and stop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from sdv_studio.broker import auth, bench, vss
from sdv_studio.broker.kuksa_v1 import ValV1
from sdv_studio.broker.kuksa_v2 import ValV2
from sdv_studio.broker.limits import Guard, Limits
from sdv_studio.broker.mqtt import MqttBroker
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as v1_grpc
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2_grpc as sdv_grpc
from sdv_studio.broker.sdv_v1 import Broker
from sdv_studio.broker.store import Database

log = logging.getLogger(__name__)

# The broker ships to devices without the rest of SDV Studio, so its ports are its own (core.defaults agrees).
DATABROKER_PORT = 55555
MQTT_PORT = 1883


@dataclass
class BrokerOptions:
    vss_path: Path
    address: str = "127.0.0.1"
    port: int = DATABROKER_PORT
    mqtt_port: int | None = MQTT_PORT  # None: no MQTT
    tls_cert: Path | None = None
    tls_private_key: Path | None = None
    jwt_public_key: Path | None = None
    mock_actuators: bool = True  # bench mode: reflect unclaimed actuator targets into current values
    mock_delay: float = bench.DEFAULT_DELAY_MS / 1000  # seconds
    signals: Path | None = None  # JSON {path: value}: initial current values
    limits: Limits = field(default_factory=Limits)


def mqtt_address(options: BrokerOptions) -> str:
    """Where MQTT listens: beside the gRPC services, but on loopback alone when those are secured.

    MQTT has no authentication a Velocitas app could use (the SDK's client connects anonymously,
    without TLS, to localhost by default), so beside a databroker that asks for a JWT or TLS it
    stays reachable from this machine only, not open to the network.
    """
    secured = options.jwt_public_key is not None or options.tls_cert is not None
    if not secured or _is_loopback(options.address):
        return options.address
    return "127.0.0.1"


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


class RunningBroker:
    def __init__(
        self, server: grpc.Server, guard: Guard, port: int, db: Database, mqtt: MqttBroker | None,
        mirror: bench.ActuatorMirror | None = None,
    ) -> None:
        self.server = server
        self.guard = guard
        self.port = port
        self.db = db
        self.mqtt = mqtt
        self.mirror = mirror

    async def stop(self) -> None:
        # Ends every stream too: their subscriptions close when the RPC is cancelled.
        await asyncio.get_running_loop().run_in_executor(None, self.server.stop(grace=0.5).wait)
        self.guard.stop()
        if self.mirror is not None:
            self.mirror.stop()
        if self.mqtt is not None:
            await self.mqtt.stop()


async def start(options: BrokerOptions) -> RunningBroker:
    """Raises vss.VssError, bench.SignalsError, OSError (files, ports) or RuntimeError (no MQTT broker)."""
    db = Database(vss.load(options.vss_path))
    if options.signals is not None:
        bench.seed(db, options.signals)
    verifier = auth.JwtVerifier.from_file(options.jwt_public_key) if options.jwt_public_key else None
    guard = Guard(options.limits)
    server = grpc.server(guard.unary_pool, options=options.limits.server_options())
    guard.add_service(server, v2_grpc.add_VALServicer_to_server, ValV2(db, verifier))
    guard.add_service(server, v1_grpc.add_VALServicer_to_server, ValV1(db, verifier))
    guard.add_service(server, sdv_grpc.add_BrokerServicer_to_server, Broker(db, verifier))
    target = f"{options.address}:{options.port}"
    try:
        if options.tls_cert and options.tls_private_key:
            credentials = grpc.ssl_server_credentials(
                [(options.tls_private_key.read_bytes(), options.tls_cert.read_bytes())]
            )
            port = server.add_secure_port(target, credentials)
        else:
            port = server.add_insecure_port(target)
    except RuntimeError as exc:  # grpcio's "Failed to bind to address"
        raise OSError(f"cannot listen on {target}") from exc
    if port == 0:  # older grpcio reports a failed bind this way
        raise OSError(f"cannot listen on {target}")
    mqtt = None
    if options.mqtt_port is not None:
        mqtt = MqttBroker(mqtt_address(options), options.mqtt_port)
        await mqtt.start()
    mirror = None
    if options.mock_actuators:  # before the first call, so no target goes unreflected
        mirror = bench.ActuatorMirror(db, options.mock_delay)
        db.on_target = mirror.target_set
    try:
        server.start()
    except Exception:
        guard.stop()
        if mirror is not None:
            mirror.stop()
        if mqtt is not None:
            await mqtt.stop()
        raise
    guard.start()
    return RunningBroker(server, guard, port, db, mqtt, mirror)


async def serve_forever(options: BrokerOptions, stop: asyncio.Event) -> None:
    running = await start(options)
    scheme = "grpcs" if options.tls_cert else "grpc"
    mqtt = ""
    if running.mqtt:
        only_here = ("; loopback only, as MQTT has no authentication beside a secured databroker"
                     if running.mqtt.address != options.address else "")
        mqtt = f", MQTT on {running.mqtt.address}:{options.mqtt_port} ({running.mqtt.implementation}{only_here})"
    mode = (f", bench mode: actuator targets become current values after {options.mock_delay * 1000:g} ms"
            if options.mock_actuators else "")
    print(
        f"databroker listening on {scheme}://{options.address}:{running.port} "
        f"({len(running.db.entries)} signals from {options.vss_path}){mqtt}{mode}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await running.stop()
