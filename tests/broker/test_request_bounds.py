"""Everything a request names is bounded: how many signals, ids, updates or patterns, how long a
path or query, how big the message. Past a bound the broker answers INVALID_ARGUMENT naming the
field (grpc itself RESOURCE_EXHAUSTED for the message size), promptly; within it, as before."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from sdv_studio.broker.kuksa_v1 import MAX_FIELDS, MAX_PATTERNS
from sdv_studio.broker.proto.kuksa.val.v1 import types_pb2 as t1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2 as v1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as v1_grpc
from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as t2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2 as sdv
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2_grpc as sdv_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import types_pb2 as sdv_types
from sdv_studio.broker.query import MAX_QUERY_LENGTH
from sdv_studio.broker.service_base import MAX_PATH_LENGTH, MAX_REQUEST_ITEMS
from tests.broker.helpers import VSS_40, broker_process

C = grpc.StatusCode
SPEED = "Vehicle.Speed"
LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
TOO_MANY = MAX_REQUEST_ITEMS + 1
LONG_PATH = "Vehicle." + "A" * MAX_PATH_LENGTH


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    with broker_process("--vss", str(VSS_40)) as info, grpc.insecure_channel(f"127.0.0.1:{info['port']}") as ch:
        yield ch


def refusal(call: Callable[..., Any], request: Any) -> tuple[C, str]:
    """The code and message a unary call, or a stream's first message, is refused with; within 2 s."""
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as refused:
        answer = call(request, timeout=10)
        if isinstance(answer, Iterator):
            next(answer)
    assert time.monotonic() - started < 2.0
    return refused.value.code(), refused.value.details()


def v1_entries(*paths: str, **fields: Any) -> list[Any]:
    return [v1.EntryRequest(path=path, view=t1.VIEW_CURRENT_VALUE, **fields) for path in paths]


def test_kuksa_v2_requests_are_bounded(channel: grpc.Channel) -> None:
    stub = v2_grpc.VALStub(channel)
    ids = [t2.SignalID(id=1)] * TOO_MANY
    assert refusal(stub.GetValues, v2.GetValuesRequest(signal_ids=ids)) == (
        C.INVALID_ARGUMENT, f"signal_ids: {TOO_MANY} in one request, at most {MAX_REQUEST_ITEMS}")
    assert refusal(stub.Subscribe, v2.SubscribeRequest(signal_paths=[SPEED] * TOO_MANY))[1].startswith("signal_paths:")
    assert refusal(stub.SubscribeById, v2.SubscribeByIdRequest(signal_ids=[1] * TOO_MANY))[1].startswith("signal_ids:")
    actuations = [v2.ActuateRequest(signal_id=t2.SignalID(path=LOW_BEAM), value=t2.Value(bool=True))] * TOO_MANY
    assert refusal(stub.BatchActuate, v2.BatchActuateRequest(actuate_requests=actuations))[1].startswith(
        "actuate_requests:")
    assert refusal(stub.ListMetadata, v2.ListMetadataRequest(root=LONG_PATH)) == (
        C.INVALID_ARGUMENT, f"root: longer than {MAX_PATH_LENGTH} characters")
    publish = v2.OpenProviderStreamRequest(publish_values_request=v2.PublishValuesRequest(
        request_id=1, data_points={i: t2.Datapoint(value=t2.Value(float=1.0)) for i in range(TOO_MANY)}))
    assert refusal(stub.OpenProviderStream, iter([publish]))[1].startswith("data_points:")
    # Within the bounds: every signal of the catalogue in one request.
    catalogue = stub.ListMetadata(v2.ListMetadataRequest(root="Vehicle"), timeout=10).metadata
    every = stub.GetValues(v2.GetValuesRequest(signal_ids=[t2.SignalID(id=m.id) for m in catalogue]), timeout=10)
    assert len(every.data_points) == len(catalogue)


def test_kuksa_v1_requests_are_bounded(channel: grpc.Channel) -> None:
    stub = v1_grpc.VALStub(channel)
    assert refusal(stub.Get, v1.GetRequest(entries=v1_entries(*[SPEED] * TOO_MANY))) == (
        C.INVALID_ARGUMENT, f"entries: {TOO_MANY} in one request, at most {MAX_REQUEST_ITEMS}")
    patterns = [f"Vehicle.*.N{i}" for i in range(MAX_PATTERNS + 1)]
    assert refusal(stub.Get, v1.GetRequest(entries=v1_entries(*patterns))) == (
        C.INVALID_ARGUMENT, f"entries: more than {MAX_PATTERNS} wildcard or branch paths in one request")
    whole = ["Vehicle"] * (MAX_REQUEST_ITEMS // 900 + 1)  # each selects the catalogue's 910 signals
    assert refusal(stub.Get, v1.GetRequest(entries=v1_entries(*whole))) == (
        C.INVALID_ARGUMENT, f"entries: more than {MAX_REQUEST_ITEMS} signals selected in one request")
    assert refusal(stub.Get, v1.GetRequest(entries=v1_entries(LONG_PATH))) == (
        C.INVALID_ARGUMENT, f"path: {len(LONG_PATH)} characters, at most {MAX_PATH_LENGTH}")
    fields = [t1.FIELD_VALUE] * (MAX_FIELDS + 1)
    assert refusal(stub.Get, v1.GetRequest(entries=v1_entries(SPEED, fields=fields))) == (
        C.INVALID_ARGUMENT, f"fields: {MAX_FIELDS + 1} in one entry, at most {MAX_FIELDS}")
    update = v1.EntryUpdate(entry=t1.DataEntry(path=SPEED, value=t1.Datapoint(float=1.0)), fields=[t1.FIELD_VALUE])
    assert refusal(stub.Set, v1.SetRequest(updates=[update] * TOO_MANY))[1].startswith("updates:")
    subscribe = [v1.SubscribeEntry(path="Vehicle.*.Speed", view=t1.VIEW_CURRENT_VALUE)] * (MAX_PATTERNS + 1)
    assert refusal(stub.Subscribe, v1.SubscribeRequest(entries=subscribe))[1].startswith("entries: more than")
    # Within the bounds: the whole catalogue with its metadata.
    everything = stub.Get(v1.GetRequest(entries=[v1.EntryRequest(path="**", view=t1.VIEW_ALL)]), timeout=10)
    assert len(everything.entries) == 910


def test_sdv_databroker_v1_requests_are_bounded(channel: grpc.Channel) -> None:
    stub = sdv_grpc.BrokerStub(channel)
    assert refusal(stub.GetDatapoints, sdv.GetDatapointsRequest(datapoints=[SPEED] * TOO_MANY))[1].startswith(
        "datapoints:")
    points = {f"Vehicle.N{i}": sdv_types.Datapoint(float_value=1.0) for i in range(TOO_MANY)}
    assert refusal(stub.SetDatapoints, sdv.SetDatapointsRequest(datapoints=points))[1].startswith("datapoints:")
    assert refusal(stub.GetMetadata, sdv.GetMetadataRequest(names=[SPEED] * TOO_MANY))[1].startswith("names:")
    too_long = f"SELECT {SPEED}" + " " * MAX_QUERY_LENGTH
    assert refusal(stub.Subscribe, sdv.SubscribeRequest(query=too_long))[1].startswith("ParseError('query:")
    # Long runs of whitespace within the bound cost linear time, not quadratic.
    spaced = f"SELECT {SPEED} WHERE {SPEED} >" + " " * (MAX_QUERY_LENGTH - 100) + "x y"
    assert refusal(stub.Subscribe, sdv.SubscribeRequest(query=spaced))[0] == C.INVALID_ARGUMENT


def test_a_message_over_the_size_limit_is_refused_by_grpc(channel: grpc.Channel) -> None:
    huge = v1.GetRequest(entries=v1_entries("Vehicle." + "A" * (5 * 1024 * 1024)))
    assert refusal(v1_grpc.VALStub(channel).Get, huge)[0] == C.RESOURCE_EXHAUSTED
