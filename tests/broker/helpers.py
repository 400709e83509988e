"""Shared by the broker tests: free ports, a broker subprocess, cached client venvs, test keys."""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.locations import REPO, VSS_40, VSS_60
from tests.locations import VENV_CACHE as VENVS

__all__ = ["REPO", "VENVS", "VSS_40", "VSS_60"]


def claim_actuation(stub: Any, path: str, until: threading.Event, hold: float = 30, timeout: float = 30) -> Any:
    """A kuksa.val.v2 provider stream that has claimed actuation of ``path``, kept open until
    ``until`` is set (at most ``hold`` s); the broker's answer to the claim is already read."""
    from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as t2
    from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2

    def requests() -> Iterator[Any]:
        yield v2.OpenProviderStreamRequest(provide_actuation_request=v2.ProvideActuationRequest(
            actuator_identifiers=[t2.SignalID(path=path)]))
        until.wait(hold)

    stream = stub.OpenProviderStream(requests(), timeout=timeout)
    assert next(stream).HasField("provide_actuation_response")
    return stream


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def broker_process(*args: str, mqtt: bool = False, program: Sequence[str] = (),
                   env: dict[str, str] | None = None) -> Iterator[dict]:
    """``sdv-studio broker`` on free ports (or ``program``, another interpreter's command for the
    broker); yields {"port", "mqtt_port", "line", "process"}."""
    port = free_port()
    mqtt_args = ["--mqtt-port", str(mqtt_port := free_port())] if mqtt else ["--no-mqtt"]
    start = list(program) or [sys.executable, "-m", "sdv_studio", "broker"]
    cmd = [*start, "--port", str(port), *mqtt_args, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "listening" in line, line + proc.stdout.read()
        yield {"port": port, "mqtt_port": mqtt_port if mqtt else None, "line": line, "process": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()


def mqtt_round_trip(port: int, topic: str = "sdv/test/speed", payload: bytes = b'{"speed": 42}') -> bytes:
    """Through the MQTT broker on 127.0.0.1:``port``, with paho-mqtt (the Velocitas SDK's client):
    connect, subscribe, publish, and return the message the subscription received."""
    import paho.mqtt.client as mqtt

    granted: queue.Queue[list[Any]] = queue.Queue()
    received: queue.Queue[bytes] = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_subscribe = lambda _client, _data, _mid, codes, _props: granted.put(codes)
    client.on_message = lambda _client, _data, message: received.put(message.payload)
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        client.subscribe(topic, qos=1)
        [code] = _next(granted, "SUBACK")
        assert not code.is_failure, f"the broker refused the subscription: {code}"
        client.publish(topic, payload, qos=1).wait_for_publish(10)
        return _next(received, "message on the subscription")
    finally:
        client.disconnect()
        client.loop_stop()


def _next(items: queue.Queue[Any], what: str, timeout: float = 10) -> Any:
    try:
        return items.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no {what} within {timeout} s") from None


def venv(name: str, requirements: list[str]) -> Path:
    """A venv under the machine's test cache holding requirements, created once and reused; its python."""
    VENVS.mkdir(parents=True, exist_ok=True)
    folder = VENVS / name
    marker = folder / ".sdv-requirements.json"
    with open(VENVS / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test runs share one creation
        if not (marker.exists() and json.loads(marker.read_text()) == requirements):
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
            subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *requirements],
                           check=True, timeout=900)
            marker.write_text(json.dumps(requirements))
    return folder / "bin" / "python"


def run_in(python: Path, script: str, *args: str, timeout: float = 120, env: dict | None = None) -> dict:
    """Run script with python; it prints one JSON document as its last stdout line."""
    proc = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rsa_keys(folder: Path) -> tuple[object, Path]:
    """A fresh RSA private key and its public half as a PEM file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = folder / "jwt.pub.pem"
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key, public


def jwt(key: object, scope: str, expires_in: float = 3600, **claims: Any) -> str:
    """An RS256 token signed with key; ``claims`` add to or replace the usual ones."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "test", "iss": "test", "exp": int(time.time() + expires_in),
                           "scope": scope, **claims}).encode())
    signature = key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{b64(signature)}"


def tls_files(folder: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed server certificate for name and 127.0.0.1, and its key (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
