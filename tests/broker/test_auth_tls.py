"""JWT scopes and TLS, switched on, with kuksa-client and raw gRPC; and detection reports both."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import grpc
import pytest
from kuksa_client.grpc import Datapoint, VSSClient, VSSClientError

from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as t2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.core.kuksa import detect
from tests.broker.helpers import broker_process, jwt, rsa_keys, tls_files

SPEED = "Vehicle.Speed"


def test_jwt_scopes(tmp_path: Path) -> None:
    key, public = rsa_keys(tmp_path)
    with broker_process("--jwt-public-key", str(public)) as info:
        port = info["port"]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = v2_grpc.VALStub(channel)
            get = v2.GetValueRequest(signal_id=t2.SignalID(path=SPEED))
            with pytest.raises(grpc.RpcError) as anonymous:
                stub.GetValue(get, timeout=10)
            assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as forged:
                stub.GetValue(get, timeout=10, metadata=[("authorization", "Bearer a.b.c")])
            assert forged.value.code() == grpc.StatusCode.UNAUTHENTICATED
            expired = jwt(key, "read", expires_in=-10)
            with pytest.raises(grpc.RpcError) as late:
                stub.GetValue(get, timeout=10, metadata=[("authorization", f"Bearer {expired}")])
            assert late.value.code() == grpc.StatusCode.UNAUTHENTICATED
            # JSON that is no JWT header or claims, and a signed token whose expiry is no number.
            rs256 = base64.urlsafe_b64encode(b'{"alg": "RS256"}').rstrip(b"=").decode()
            for malformed in ("W10.e30.c2ln", f"{rs256}.W10.c2ln", "bnVsbA.e30.c2ln", jwt(key, "read", exp="soon")):
                with pytest.raises(grpc.RpcError) as bad:
                    stub.GetValue(get, timeout=10, metadata=[("authorization", f"Bearer {malformed}")])
                assert bad.value.code() == grpc.StatusCode.UNAUTHENTICATED
                assert bad.value.details().startswith("Invalid auth token")

        reader = jwt(key, f"read:{SPEED}")
        with VSSClient("127.0.0.1", port, token=reader) as client:
            client.get_current_values([SPEED])
            with pytest.raises(VSSClientError) as denied:
                client.set_current_values({SPEED: Datapoint(10.0)})
            assert denied.value.error["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
            with pytest.raises(VSSClientError):
                client.get_current_values(["Vehicle.Body.Lights.Beam.Low.IsOn"])  # outside read:Vehicle.Speed
        provider = jwt(key, "provide:Vehicle.Speed actuate:Vehicle.Body.**")
        with VSSClient("127.0.0.1", port, token=provider) as client:
            client.set_current_values({SPEED: Datapoint(10.0)})
            assert client.get_current_values([SPEED])[SPEED].value == 10.0
            client.set_target_values({"Vehicle.Body.Lights.Beam.Low.IsOn": Datapoint(True)})

        found = asyncio.run(detect.classify("127.0.0.1", port))
        assert found is not None and found.auth and "kuksa.val.v2" in found.apis


def test_tls(tmp_path: Path) -> None:
    cert, key = tls_files(tmp_path)
    with broker_process("--tls-cert", str(cert), "--tls-private-key", str(key)) as info:
        port = info["port"]
        assert "grpcs://" in info["line"]
        with VSSClient("127.0.0.1", port, root_certificates=cert, tls_server_name="localhost") as client:
            client.set_current_values({SPEED: Datapoint(77.0)})
            assert client.get_current_values([SPEED])[SPEED].value == 77.0
        with grpc.insecure_channel(f"127.0.0.1:{port}") as plain, pytest.raises(grpc.RpcError):
            v2_grpc.VALStub(plain).GetServerInfo(v2.GetServerInfoRequest(), timeout=3)
        found = asyncio.run(detect.classify("127.0.0.1", port))
        assert found is not None and found.tls and found.version != "unknown"
        assert found.vss_version and "kuksa.val.v1" in found.apis
