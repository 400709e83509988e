"""kuksa.val.v2 and sdv.databroker.v1 answers at the wire level: the real databroker's codes."""

from __future__ import annotations

import threading

import grpc
import pytest

from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as t2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2 as sdv
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2_grpc as sdv_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import types_pb2 as sdv_types
from tests.broker.helpers import VSS_60, broker_process, claim_actuation

C = grpc.StatusCode
SPEED = "Vehicle.Speed"
LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
FAN = "Vehicle.Cabin.HVAC.Station.Row1.Driver.FanSpeed"  # uint8 0..100


@pytest.fixture(scope="module")
def channel() -> grpc.Channel:
    # Without bench mode: the real databroker's answers, e.g. UNAVAILABLE for an unprovided actuator.
    with broker_process("--vss", str(VSS_60), "--no-mock-actuators") as info, \
            grpc.insecure_channel(f"127.0.0.1:{info['port']}") as ch:
        yield ch


def code_of(call, request) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=10)
    return err.value.code()


def publish(stub, path: str, **value) -> v2.PublishValueRequest:
    return v2.PublishValueRequest(signal_id=t2.SignalID(path=path), data_point=t2.Datapoint(value=t2.Value(**value)))


def test_v2_get_and_publish_codes(channel: grpc.Channel) -> None:
    stub = v2_grpc.VALStub(channel)
    assert code_of(stub.GetValue, v2.GetValueRequest(signal_id=t2.SignalID(path="Vehicle.Nope"))) == C.NOT_FOUND
    assert code_of(stub.GetValue, v2.GetValueRequest(signal_id=t2.SignalID(id=999999))) == C.NOT_FOUND
    assert code_of(stub.PublishValue, publish(stub, "Vehicle.Nope", float=1.0)) == C.NOT_FOUND
    assert code_of(stub.PublishValue, publish(stub, SPEED, string="fast")) == C.INVALID_ARGUMENT
    assert code_of(stub.PublishValue, publish(stub, FAN, uint32=101)) == C.INVALID_ARGUMENT
    assert code_of(stub.PublishValue, publish(stub, FAN, float=50.0)) == C.INVALID_ARGUMENT
    assert code_of(stub.PublishValue, publish(stub, "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position",
                                              uint32=256)) == C.INVALID_ARGUMENT  # uint8 type bounds
    stub.PublishValue(publish(stub, FAN, uint32=100), timeout=10)
    got = stub.GetValue(v2.GetValueRequest(signal_id=t2.SignalID(path=FAN)), timeout=10)
    assert got.data_point.value.uint32 == 100
    values = stub.GetValues(v2.GetValuesRequest(signal_ids=[t2.SignalID(path="Vehicle.VersionVSS.Major")]))
    assert values.data_points[0].value.uint32 == 6


def test_v2_allowed_values(channel: grpc.Channel) -> None:
    stub = v2_grpc.VALStub(channel)
    meta = stub.ListMetadata(v2.ListMetadataRequest(root="Vehicle.Powertrain.Transmission.PerformanceMode"))
    allowed = list(meta.metadata[0].allowed_values.string_array.values)
    assert allowed
    path = "Vehicle.Powertrain.Transmission.PerformanceMode"
    stub.PublishValue(publish(stub, path, string=allowed[0]), timeout=10)
    assert code_of(stub.PublishValue, publish(stub, path, string="WARP")) == C.INVALID_ARGUMENT


def test_v2_list_metadata_and_subscribe_codes(channel: grpc.Channel) -> None:
    stub = v2_grpc.VALStub(channel)
    branch = stub.ListMetadata(v2.ListMetadataRequest(root="Vehicle.Body.Lights"), timeout=10)
    assert LOW_BEAM in {m.path for m in branch.metadata}
    wildcard = stub.ListMetadata(v2.ListMetadataRequest(root="Vehicle.*.Lights.**"), timeout=10)
    assert LOW_BEAM in {m.path for m in wildcard.metadata}
    assert code_of(stub.ListMetadata, v2.ListMetadataRequest(root="Vehicle.Nope")) == C.NOT_FOUND
    assert code_of(stub.ListMetadata, v2.ListMetadataRequest(root="Vehicle..X")) == C.INVALID_ARGUMENT

    def first(request, timeout):
        return next(iter(stub.Subscribe(request, timeout=timeout)))

    assert code_of(first, v2.SubscribeRequest(signal_paths=["Vehicle.Nope"])) == C.NOT_FOUND
    assert code_of(first, v2.SubscribeRequest(signal_paths=[])) == C.INVALID_ARGUMENT
    assert code_of(first, v2.SubscribeRequest(signal_paths=[SPEED], buffer_size=1001)) == C.INVALID_ARGUMENT


def test_v2_actuate_goes_to_the_provider(channel: grpc.Channel) -> None:
    stub = v2_grpc.VALStub(channel)
    actuate = v2.ActuateRequest(signal_id=t2.SignalID(path=LOW_BEAM), value=t2.Value(bool=True))
    assert code_of(stub.Actuate, actuate) == C.UNAVAILABLE  # nobody provides it yet
    assert code_of(stub.Actuate, v2.ActuateRequest(signal_id=t2.SignalID(path=SPEED),
                                                   value=t2.Value(float=1.0))) == C.INVALID_ARGUMENT
    assert code_of(stub.Actuate, v2.ActuateRequest(signal_id=t2.SignalID(path=LOW_BEAM),
                                                   value=t2.Value(string="on"))) == C.INVALID_ARGUMENT

    claimed, stop = threading.Event(), threading.Event()
    stream = claim_actuation(stub, LOW_BEAM, stop, hold=10, timeout=20)
    claimed.set()
    stub.Actuate(actuate, timeout=10)
    forwarded = next(stream).batch_actuate_stream_request.actuate_requests[0]
    assert forwarded.value.bool is True
    stop.set()
    stream.cancel()


def test_sdv_databroker_v1(channel: grpc.Channel) -> None:
    v2stub, stub = v2_grpc.VALStub(channel), sdv_grpc.BrokerStub(channel)
    v2stub.PublishValue(publish(v2stub, SPEED, float=50.0), timeout=10)
    reply = stub.GetDatapoints(sdv.GetDatapointsRequest(datapoints=[SPEED, "Vehicle.Nope"]), timeout=10)
    assert reply.datapoints[SPEED].float_value == 50.0
    assert reply.datapoints["Vehicle.Nope"].failure_value == sdv_types.Datapoint.UNKNOWN_DATAPOINT
    errors = stub.SetDatapoints(sdv.SetDatapointsRequest(datapoints={
        SPEED: sdv_types.Datapoint(float_value=1.0),  # a sensor: refused through this API
        LOW_BEAM: sdv_types.Datapoint(bool_value=True),
        "Vehicle.Nope": sdv_types.Datapoint(bool_value=True),
    }), timeout=10).errors
    assert errors[SPEED] == sdv_types.ACCESS_DENIED and errors["Vehicle.Nope"] == sdv_types.UNKNOWN_DATAPOINT
    bad = stub.SetDatapoints(sdv.SetDatapointsRequest(datapoints={LOW_BEAM: sdv_types.Datapoint(float_value=1.0)}))
    assert bad.errors[LOW_BEAM] == sdv_types.INVALID_TYPE
    meta = stub.GetMetadata(sdv.GetMetadataRequest(names=[SPEED]), timeout=10).list[0]
    assert meta.name == SPEED and meta.data_type == sdv_types.FLOAT

    updates = stub.Subscribe(sdv.SubscribeRequest(query=f"SELECT {SPEED} WHERE {SPEED} > 60"), timeout=20)
    v2stub.PublishValue(publish(v2stub, SPEED, float=55.0), timeout=10)
    v2stub.PublishValue(publish(v2stub, SPEED, float=70.0), timeout=10)
    assert next(updates).fields[SPEED].float_value == 70.0  # 50 and 55 did not match
    updates.cancel()
    assert code_of(lambda r, timeout: next(iter(stub.Subscribe(r, timeout=timeout))),
                   sdv.SubscribeRequest(query="SELEKT x")) == C.INVALID_ARGUMENT
