"""The gRPC-Python floor for bench/broker.py: a trivial server on the broker's own stubs.

    .venv/bin/python bench/broker_floor.py --port PORT [--limits]

Answers the RPCs a kuksa-client set+get makes (kuksa.val.v1 GetServerInfo, Get, Set and
kuksa.val.v2 PublishValue, GetValue) with no checks at all: the last value set per path is kept
as the message it came in and handed back; a metadata Get gets a canned FLOAT answer. Served the
way the broker serves (grpcio's thread-pool server, the same channel arguments and workers), so
the CPU it spends per call is what grpcio itself costs: the floor for a broker on grpcio.

With --limits the handlers are registered through the broker's limits.Guard, as the broker's
are: the difference to the plain floor is what the limits cost per call.
"""

from __future__ import annotations

import argparse
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdv_studio.broker.limits import Guard, Limits
from sdv_studio.broker.proto.kuksa.val.v1 import types_pb2 as v1_types
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2 as v1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as v1_grpc
from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as v2_types
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc

_METADATA = v1_types.Metadata(data_type=v1_types.DATA_TYPE_FLOAT)


class FloorV1(v1_grpc.VALServicer):
    def __init__(self, values: dict[str, v1_types.Datapoint]) -> None:
        self.values = values

    def GetServerInfo(self, request: Any, context: Any) -> v1.GetServerInfoResponse:
        return v1.GetServerInfoResponse(name="floor", version="0")

    def Get(self, request: v1.GetRequest, context: Any) -> v1.GetResponse:
        response = v1.GetResponse()
        for wanted in request.entries:
            entry = response.entries.add(path=wanted.path)
            if wanted.view == v1_types.VIEW_METADATA:
                entry.metadata.CopyFrom(_METADATA)
            elif wanted.path in self.values:
                entry.value.CopyFrom(self.values[wanted.path])
        return response

    def Set(self, request: v1.SetRequest, context: Any) -> v1.SetResponse:
        for update in request.updates:
            self.values[update.entry.path] = update.entry.value
        return v1.SetResponse()


class FloorV2(v2_grpc.VALServicer):
    def __init__(self, values: dict[str, v1_types.Datapoint]) -> None:
        self.values = values

    def PublishValue(self, request: v2.PublishValueRequest, context: Any) -> v2.PublishValueResponse:
        # Kept in v1 shape so a v1 Get reads it back: the one conversion any broker needs.
        self.values[request.signal_id.path] = v1_types.Datapoint(float=request.data_point.value.float)
        return v2.PublishValueResponse()

    def GetValue(self, request: v2.GetValueRequest, context: Any) -> v2.GetValueResponse:
        point = self.values.get(request.signal_id.path)
        value = v2_types.Value(float=point.float) if point is not None else None
        return v2.GetValueResponse(data_point=v2_types.Datapoint(value=value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--limits", action="store_true", help="register the handlers through the broker's Guard")
    args = parser.parse_args()
    values: dict[str, v1_types.Datapoint] = {}
    # Configured as the broker's server is, so the two differ only in the handlers.
    limits = Limits()
    if args.limits:
        guard = Guard(limits)
        server = grpc.server(guard.unary_pool, options=limits.server_options())
        guard.add_service(server, v1_grpc.add_VALServicer_to_server, FloorV1(values))
        guard.add_service(server, v2_grpc.add_VALServicer_to_server, FloorV2(values))
        guard.start()
    else:
        server = grpc.server(ThreadPoolExecutor(limits.unary_workers), options=limits.server_options())
        v1_grpc.add_VALServicer_to_server(FloorV1(values), server)
        v2_grpc.add_VALServicer_to_server(FloorV2(values), server)
    server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    with_limits = " with the broker's limits" if args.limits else ""
    print(f"floor{with_limits} listening on 127.0.0.1:{args.port}", flush=True)
    threading.Event().wait()  # until the bench terminates it


if __name__ == "__main__":
    main()
