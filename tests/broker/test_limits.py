"""One client cannot starve the others: a hostile client hammers the broker with calls that never
send their request, more streams than one connection may hold, oversized requests and a stream it
does not read, while kuksa-client still gets its answers. Then each limit on its own, with small
limits on a broker in this process."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

import grpc
import pytest
from kuksa_client.grpc import Datapoint, VSSClient

from sdv_studio.broker import server
from sdv_studio.broker.kuksa_v2 import PROVIDER_BACKLOG
from sdv_studio.broker.limits import Limits
from sdv_studio.broker.proto.kuksa.val.v1 import types_pb2 as t1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2 as v1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as v1_grpc
from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as t2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2 as sdv
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2_grpc as sdv_grpc
from tests.broker.helpers import VSS_40, broker_process, claim_actuation, free_port

SPEED = "Vehicle.Speed"
LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
GET_SPEED = v2.GetValueRequest(signal_id=t2.SignalID(path=SPEED))
Code = grpc.StatusCode
# Refused by the broker's limits, or by HTTP/2 (REFUSED_STREAM) for calls a client started
# beyond the concurrent streams the connection allows.
REFUSED = {Code.RESOURCE_EXHAUSTED, Code.UNAVAILABLE}


@contextmanager
def serving(limits: Limits) -> Iterator[int]:
    """A broker in this process with these limits; yields its port on 127.0.0.1."""
    options = server.BrokerOptions(VSS_40, port=free_port(), mqtt_port=None, mock_actuators=False, limits=limits)
    running = asyncio.run(server.start(options))
    try:
        yield running.port
    finally:
        asyncio.run(running.stop())


@contextmanager
def silent_calls(channel: grpc.Channel, count: int, spacing: float = 0.0,
                 timeout: float = 60) -> Iterator[list[grpc.Future]]:
    """``count`` GetValue calls, started ``spacing`` s apart, that never send their request (until
    the block ends)."""
    release = threading.Event()

    def never() -> Iterator[Any]:
        release.wait(timeout)
        yield from ()

    call = channel.stream_unary("/kuksa.val.v2.VAL/GetValue", request_serializer=v2.GetValueRequest.SerializeToString,
                                response_deserializer=v2.GetValueResponse.FromString)
    futures = []
    for _ in range(count):
        futures.append(call.future(never(), timeout=timeout))
        time.sleep(spacing)
    try:
        yield futures
    finally:
        release.set()
        for future in futures:
            future.cancel()


def code_of(future: grpc.Future, timeout: float = 10) -> Code:
    try:
        future.result(timeout=timeout)
    except grpc.RpcError as exc:
        return exc.code()
    return Code.OK


def open_stream(stream: Any) -> Code:
    """OK once the stream's first message came, else the code it was refused with."""
    try:
        next(stream)
    except grpc.RpcError as exc:
        return exc.code()
    return Code.OK


def channel(port: int, *options: tuple[str, Any]) -> grpc.Channel:
    """A connected channel on a connection of its own: channels to one address with the same
    arguments share a connection in grpc, a local subchannel pool keeps this one apart. Connected
    first, so a burst of calls keeps within the server's HTTP/2 limit, which a new connection
    does not know yet."""
    opened = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1), *options])
    v2_grpc.VALStub(opened).GetServerInfo(v2.GetServerInfoRequest(), timeout=10)
    return opened


def test_a_hostile_client_does_not_starve_a_well_behaved_kuksa_client() -> None:
    limits = Limits()  # the broker's own, as `sdv-studio broker` runs
    with broker_process("--vss", str(VSS_40)) as info, ExitStack() as stack:
        port = info["port"]
        silent_ch, streams_ch, huge_ch, slow_ch = (stack.enter_context(channel(port)) for _ in range(4))
        # 520 calls that never send their request: more than the 500 calls the broker used to
        # serve at once in all, so they used to leave no room for anyone else.
        silent = stack.enter_context(silent_calls(silent_ch, 520))
        # 500 subscriptions on one connection.
        subscriptions = [v2_grpc.VALStub(streams_ch).Subscribe(v2.SubscribeRequest(signal_paths=[SPEED]), timeout=60)
                         for _ in range(500)]
        for stream in subscriptions:
            stack.callback(stream.cancel)
        # A subscription to every signal that reads nothing after its first message.
        unread = v1_grpc.VALStub(slow_ch).Subscribe(v1.SubscribeRequest(entries=[v1.SubscribeEntry(
            path="Vehicle", view=t1.VIEW_ALL, fields=[t1.FIELD_VALUE])]), timeout=60)
        next(unread)
        stack.callback(unread.cancel)

        def oversized() -> list[Code]:
            """Requests as big as a message may be, naming too many signals or patterns."""
            stub, codes = v1_grpc.VALStub(huge_ch), []
            too_many_ids = v2.GetValuesRequest(signal_ids=[t2.SignalID(id=1)] * 200_000)
            patterns = v1.GetRequest(entries=[v1.EntryRequest(path=f"Vehicle.*.N{i}") for i in range(5000)])
            for _ in range(10):
                for call, request in ((v2_grpc.VALStub(huge_ch).GetValues, too_many_ids), (stub.Get, patterns)):
                    try:
                        call(request, timeout=10)
                        codes.append(Code.OK)
                    except grpc.RpcError as exc:
                        codes.append(exc.code())
            return codes

        def publish_for_the_unread_stream() -> float:
            """2000 changes to every signal the unread subscription holds; the slowest publish, in s."""
            stub, slowest = v2_grpc.VALStub(slow_ch), 0.0
            for i in range(2000):
                started = time.monotonic()
                stub.PublishValue(v2.PublishValueRequest(signal_id=t2.SignalID(path="Vehicle.AverageSpeed"),
                                                         data_point=t2.Datapoint(value=t2.Value(float=i % 250))),
                                  timeout=10)
                slowest = max(slowest, time.monotonic() - started)
            return slowest

        with ThreadPoolExecutor(3) as pool:
            stream_codes = pool.submit(lambda: [open_stream(stream) for stream in subscriptions])
            huge_codes = pool.submit(oversized)
            slowest_publish = pool.submit(publish_for_the_unread_stream)
            # Meanwhile, a well-behaved client: every round trip answered, and promptly.
            slowest = 0.0
            with VSSClient("127.0.0.1", port) as client:
                for i in range(50):
                    started = time.monotonic()
                    client.set_current_values({SPEED: Datapoint(float(100 + i))})
                    assert client.get_current_values([SPEED])[SPEED].value == float(100 + i)
                    slowest = max(slowest, time.monotonic() - started)
                for updates in client.subscribe_current_values([SPEED]):  # its own stream still opens
                    assert SPEED in updates
                    break
            assert slowest < 2.0, f"a set+get round trip took {slowest:.2f} s"

            codes = stream_codes.result(timeout=60)
            assert codes.count(Code.OK) == limits.streams_per_connection
            assert set(codes) == {Code.OK, *REFUSED}
            assert set(huge_codes.result(timeout=60)) == {Code.INVALID_ARGUMENT}
            assert slowest_publish.result(timeout=60) < 2.0
        # The silent calls that started were cancelled, most once they stalled, a few when their
        # request wait ended; the others were refused while the connection had stalled calls.
        codes = [code_of(future, timeout=limits.request_wait + 5) for future in silent]
        assert set(codes) == {Code.CANCELLED, *REFUSED}
        assert codes.count(Code.CANCELLED) <= limits.calls_per_connection


def test_calls_whose_request_does_not_come_are_ended() -> None:
    limits = Limits(request_wait=3.0, stall_after=0.5, stalled_per_connection=2, max_stalled=3)
    with serving(limits) as port, channel(port) as first, channel(port) as second, channel(port) as third:
        started = time.monotonic()
        with silent_calls(first, 4, spacing=0.05) as on_first:
            # Two stall; the connection keeps no more stalled calls: the later ones are cancelled.
            assert [code_of(future, timeout=2) for future in on_first[2:]] == [Code.CANCELLED] * 2
            assert time.monotonic() - started < limits.request_wait
            # And it takes no new call until its stalled ones end.
            with silent_calls(first, 1) as refused:
                assert code_of(refused[0], timeout=1) == Code.RESOURCE_EXHAUSTED
            with silent_calls(second, 2, spacing=0.05) as on_second:
                # Four stalled in all, one more than the server keeps: the oldest is cancelled.
                assert code_of(on_first[0], timeout=2) == Code.CANCELLED
                assert time.monotonic() - started < limits.request_wait
                # Meanwhile other connections are served, calls that arrive together included.
                burst = [v2_grpc.VALStub(third).GetValue.future(GET_SPEED, timeout=5) for _ in range(50)]
                assert all(future.result().HasField("data_point") for future in burst)
                # The stalled calls left end when they have waited request_wait.
                codes = [code_of(future, timeout=limits.request_wait + 2) for future in [on_first[1], *on_second]]
                assert codes == [Code.CANCELLED] * 3
                assert time.monotonic() - started < 2 * limits.request_wait + 1
        # The connections that held silent calls serve ordinary ones again.
        for used in (first, second):
            assert v2_grpc.VALStub(used).GetValue(GET_SPEED, timeout=5).HasField("data_point")


def test_streams_are_limited_per_connection_and_in_all() -> None:
    limits = Limits(streams_per_connection=3, max_streams=5)
    with serving(limits) as port, channel(port) as first, channel(port) as second:
        v2_stub, v1_stub, sdv_stub = v2_grpc.VALStub(first), v1_grpc.VALStub(first), sdv_grpc.BrokerStub(first)
        v1_entry = v1.SubscribeEntry(path=SPEED, view=t1.VIEW_CURRENT_VALUE, fields=[t1.FIELD_VALUE])
        opened = [
            v2_stub.Subscribe(v2.SubscribeRequest(signal_paths=[SPEED]), timeout=30),
            v1_stub.Subscribe(v1.SubscribeRequest(entries=[v1_entry]), timeout=30),
            v2_stub.SubscribeById(v2.SubscribeByIdRequest(signal_ids=[1]), timeout=30),
        ]
        assert [open_stream(stream) for stream in opened] == [Code.OK] * 3
        # sdv.databroker.v1 sends nothing before a value changes: its refusal is its first message.
        refused = sdv_stub.Subscribe(sdv.SubscribeRequest(query=f"SELECT {SPEED}"), timeout=30)
        with pytest.raises(grpc.RpcError) as per_connection:
            next(refused)
        assert per_connection.value.code() == Code.RESOURCE_EXHAUSTED
        assert "on this connection" in per_connection.value.details()
        assert v2_stub.GetValue(GET_SPEED, timeout=5) is not None  # unary calls are not streams

        other = v2_grpc.VALStub(second)
        more, codes = [], []
        for _ in range(3):  # one after the other, so which one is refused is known
            more.append(other.Subscribe(v2.SubscribeRequest(signal_paths=[SPEED]), timeout=30))
            codes.append(open_stream(more[-1]))
        assert codes == [Code.OK, Code.OK, Code.RESOURCE_EXHAUSTED]
        assert "the most this broker serves" in more[2].details()

        opened[0].cancel()  # a closed stream frees its place
        deadline = time.monotonic() + 5
        while (code := open_stream(other.Subscribe(v2.SubscribeRequest(signal_paths=[SPEED]), timeout=30))) != Code.OK:
            assert code == Code.RESOURCE_EXHAUSTED and time.monotonic() < deadline
            time.sleep(0.05)
        for stream in [*opened, *more]:
            stream.cancel()


def test_actuations_for_a_provider_that_does_not_read_are_refused_not_piled_up() -> None:
    # The provider's receive window stays at HTTP/2's 64 KiB (no bandwidth probing to widen it).
    with serving(Limits()) as port, channel(port, ("grpc.http2.bdp_probe", 0)) as provider_side, \
            channel(port) as actuator_side:
        done = threading.Event()
        stream = claim_actuation(v2_grpc.VALStub(provider_side), LOW_BEAM, done)  # then reads no more
        stub = v2_grpc.VALStub(actuator_side)
        actuate = v2.ActuateRequest(signal_id=t2.SignalID(path=LOW_BEAM), value=t2.Value(bool=True))
        refused, sent = None, 0
        while refused is None and sent < 20_000:  # grpc's flow control windows fill first, then the backlog
            try:
                stub.Actuate(actuate, timeout=5)
                sent += 1
            except grpc.RpcError as exc:
                refused = exc
        assert refused is not None and refused.code() == Code.UNAVAILABLE
        assert "is not reading its stream" in refused.details()
        assert sent >= PROVIDER_BACKLOG
        assert stub.GetValue(GET_SPEED, timeout=5).HasField("data_point")
        done.set()
        stream.cancel()
