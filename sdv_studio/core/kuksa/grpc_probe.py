"""Ask a gRPC endpoint which databroker APIs it serves, its version, VSS version and auth."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from sdv_studio.broker.proto.kuksa.val.v1 import types_pb2 as v1_types
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2 as v1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as v1_grpc
from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as v2_types
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2 as sdv
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2_grpc as sdv_grpc

API_V2, API_V1, API_SDV = "kuksa.val.v2", "kuksa.val.v1", "sdv.databroker.v1"
VERSION_PATHS = [f"Vehicle.VersionVSS.{part}" for part in ("Major", "Minor", "Patch")]
# These mean "nothing gRPC answered"; any other status comes from a gRPC server.
_NO_ANSWER = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


@dataclass
class Findings:
    apis: list[str] = field(default_factory=list)
    name: str | None = None
    version: str | None = None
    vss_version: str | None = None
    auth: bool = False
    response_ms: float = 0.0


def _server_name(pem: str) -> str | None:
    """The name to expect in the certificate: its first DNS SAN, else its CN."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = names.get_values_for_type(x509.DNSName)
        if dns:
            return str(dns[0])
    except x509.ExtensionNotFound:
        pass
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else None


def _channel(target: str, certificate_pem: str | None) -> grpc.aio.Channel:
    if certificate_pem is None:
        return grpc.aio.insecure_channel(target)
    # Trust the certificate the server just showed: detection reports, it does not authenticate.
    credentials = grpc.ssl_channel_credentials(root_certificates=certificate_pem.encode())
    name = _server_name(certificate_pem)
    options = [("grpc.ssl_target_name_override", name)] if name else []
    return grpc.aio.secure_channel(target, credentials, options=options)


async def _call(call: Callable[[], Awaitable[Any]]) -> tuple[Any, grpc.StatusCode | None]:
    try:
        return await call(), None
    except grpc.aio.AioRpcError as exc:
        return None, exc.code()


def _version_text(parts: list[Any]) -> str | None:
    numbers = [str(part) for part in parts if part is not None]
    return ".".join(numbers) if len(numbers) == 3 else None


async def probe(host: str, port: int, timeout: float, certificate_pem: str | None = None) -> Findings | None:
    """None when no databroker API answers there."""
    findings = Findings()
    answered = False
    async with _channel(f"{host}:{port}", certificate_pem) as channel:
        stub2, stub1, stub_sdv = v2_grpc.VALStub(channel), v1_grpc.VALStub(channel), sdv_grpc.BrokerStub(channel)
        started = time.perf_counter()
        info2, code = await _call(lambda: stub2.GetServerInfo(v2.GetServerInfoRequest(), timeout=timeout))
        findings.response_ms = round((time.perf_counter() - started) * 1000, 2)
        if code in _NO_ANSWER:
            return None
        for api, result, status in [
            (API_V2, info2, code),
            (API_V1, *await _call(lambda: stub1.GetServerInfo(v1.GetServerInfoRequest(), timeout=timeout))),
            (API_SDV, *await _call(lambda: stub_sdv.GetMetadata(
                sdv.GetMetadataRequest(names=["Vehicle.Speed"]), timeout=timeout))),
        ]:
            if status is None or status == grpc.StatusCode.UNAUTHENTICATED:
                findings.apis.append(api)
                answered = True
            findings.auth |= status == grpc.StatusCode.UNAUTHENTICATED
            if result is not None and hasattr(result, "version") and findings.version is None:
                findings.name, findings.version = result.name, result.version
        if not answered:
            return None
        await _read_vss_version(findings, stub2, stub1, timeout)
    return findings


async def _read_vss_version(findings: Findings, stub2: Any, stub1: Any, timeout: float) -> None:
    if API_V2 in findings.apis:
        request = v2.GetValuesRequest(signal_ids=[v2_types.SignalID(path=p) for p in VERSION_PATHS])
        reply, code = await _call(lambda: stub2.GetValues(request, timeout=timeout))
        findings.auth |= code == grpc.StatusCode.UNAUTHENTICATED
        if reply is not None:
            parts = [p.value.uint32 if p.value.HasField("uint32") else None for p in reply.data_points]
            findings.vss_version = _version_text(parts)
            return
    if API_V1 in findings.apis:
        entries = [v1.EntryRequest(path=p, view=v1_types.VIEW_CURRENT_VALUE) for p in VERSION_PATHS]
        reply, code = await _call(lambda: stub1.Get(v1.GetRequest(entries=entries), timeout=timeout))
        findings.auth |= code == grpc.StatusCode.UNAUTHENTICATED
        if reply is not None and not reply.errors:
            by_path = {e.path: e.value.uint32 if e.value.HasField("uint32") else None for e in reply.entries}
            findings.vss_version = _version_text([by_path.get(p) for p in VERSION_PATHS])
