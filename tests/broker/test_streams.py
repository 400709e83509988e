"""Streams on the thread-pool server: subscriptions end with their RPC, updates arrive whole and in
order, and open streams neither hold the broker's workers nor its shutdown."""

from __future__ import annotations

import os
import signal
import threading
import time

import grpc

from sdv_studio.broker.limits import Limits
from sdv_studio.broker.proto.kuksa.val.v1 import types_pb2 as t1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2 as v1
from sdv_studio.broker.proto.kuksa.val.v1 import val_pb2_grpc as v1_grpc
from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as t2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2 as sdv
from sdv_studio.broker.proto.sdv.databroker.v1 import broker_pb2_grpc as sdv_grpc
from sdv_studio.broker.store import CURRENT, QUEUE_LIMIT, Change, Database
from sdv_studio.broker.vss import Entry
from tests.broker.helpers import VSS_40, broker_process, claim_actuation

SPEED = "Vehicle.Speed"
LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"


def _db() -> tuple[Database, Entry, Entry]:
    speed = Entry(1, SPEED, "sensor", "float")
    rpm = Entry(2, "Vehicle.Powertrain.CombustionEngine.Speed", "sensor", "uint16")
    return Database([speed, rpm]), speed, rpm


def test_subscription_in_order_merged_when_full_and_ended_by_unsubscribe() -> None:
    db, speed, rpm = _db()
    subscription = db.subscribe([(speed.id, CURRENT), (rpm.id, CURRENT)])
    assert db.update([Change(rpm, CURRENT, ("uint32", 7))]) == []  # changed once, before the flood
    for i in range(QUEUE_LIMIT + 4):
        assert db.update([Change(speed, CURRENT, ("float", float(i)))]) == []
    # The full queue became one notification of each signal's latest value, then queued on.
    merged = subscription.next()
    assert merged[(rpm.id, CURRENT)].value == ("uint32", 7)
    assert merged[(speed.id, CURRENT)].value == ("float", float(QUEUE_LIMIT - 1))
    received = [subscription.next()[(speed.id, CURRENT)].value[1] for _ in range(4)]
    assert received == [float(i) for i in range(QUEUE_LIMIT, QUEUE_LIMIT + 4)]

    ended = threading.Event()

    def wait() -> None:
        assert subscription.next() is None
        ended.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    assert not ended.is_set()  # blocked: nothing pending
    db.unsubscribe(subscription)
    waiter.join(5)
    assert ended.is_set()
    db.unsubscribe(subscription)  # a second time (RPC end after stream end) does nothing


def test_updates_from_many_threads_arrive_whole() -> None:
    db, speed, rpm = _db()
    subscription = db.subscribe([(speed.id, CURRENT), (rpm.id, CURRENT)])

    def writer(base: int) -> None:
        for i in range(200):
            value = base + i
            db.update([Change(speed, CURRENT, ("float", float(value))), Change(rpm, CURRENT, ("uint32", value))])

    writers = [threading.Thread(target=writer, args=(n * 1000,)) for n in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    final = db.get(speed).value[1]
    assert final == db.get(rpm).value[1]
    # 800 two-value notifications: past the queue's bound on values, so merged on the way, which
    # keeps them whole (each signal's latest value is from the same update) and ends with the last.
    read = 0
    while read < 800:
        notification = subscription.next()
        read += 1
        assert notification[(speed.id, CURRENT)].value[1] == notification[(rpm.id, CURRENT)].value[1]
        if notification[(speed.id, CURRENT)].value[1] == final:
            break
    assert read < 800


def test_cancelled_streams_free_their_workers() -> None:
    """More subscriptions opened and cancelled, one after another, than the server holds open at once."""
    with broker_process("--vss", str(VSS_40)) as info, grpc.insecure_channel(f"127.0.0.1:{info['port']}") as ch:
        stub = v2_grpc.VALStub(ch)
        for _ in range(Limits().max_streams + 20):
            stream = stub.Subscribe(v2.SubscribeRequest(signal_paths=[SPEED]), timeout=10)
            next(stream)
            stream.cancel()
        time.sleep(0.5)
        # Each worker went back to the pool: a handful of threads, not one per cancelled stream.
        assert len(os.listdir(f"/proc/{info['process'].pid}/task")) < 50
        point = t2.Datapoint(value=t2.Value(float=12.0))
        stub.PublishValue(v2.PublishValueRequest(signal_id=t2.SignalID(path=SPEED), data_point=point), timeout=10)
        value = stub.GetValue(v2.GetValueRequest(signal_id=t2.SignalID(path=SPEED)), timeout=10)
        assert value.data_point.value.float == 12.0


def test_sigterm_ends_open_streams_and_exits() -> None:
    with broker_process("--vss", str(VSS_40)) as info, grpc.insecure_channel(f"127.0.0.1:{info['port']}") as ch:
        val2, val1, broker = v2_grpc.VALStub(ch), v1_grpc.VALStub(ch), sdv_grpc.BrokerStub(ch)
        streams = [
            val2.Subscribe(v2.SubscribeRequest(signal_paths=[SPEED]), timeout=30),
            val2.SubscribeById(v2.SubscribeByIdRequest(signal_ids=[1]), timeout=30),
            val1.Subscribe(v1.SubscribeRequest(entries=[v1.SubscribeEntry(
                path=SPEED, view=t1.VIEW_CURRENT_VALUE, fields=[t1.FIELD_VALUE])]), timeout=30),
        ]
        for stream in streams:
            next(stream)
        streams.append(broker.Subscribe(sdv.SubscribeRequest(query=f"SELECT {SPEED}"), timeout=30))
        provider_done = threading.Event()
        streams.append(claim_actuation(val2, LOW_BEAM, provider_done))

        process = info["process"]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        for stream in streams:
            try:
                list(stream)
            except grpc.RpcError as exc:
                assert exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        provider_done.set()


ACCELERATIONS = [f"Vehicle.Acceleration.{axis}" for axis in ("Longitudinal", "Lateral", "Vertical")]


def _subscribe(port: int, paths: list[str], metadata: tuple[tuple[str, str], ...],
               responses: list[dict[str, float]], ready: threading.Event, stop: threading.Event) -> None:
    """A v2 subscription whose responses (path -> value) are appended to ``responses``."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = v2_grpc.VALStub(ch).Subscribe(v2.SubscribeRequest(signal_paths=paths), metadata=metadata)
        next(call)  # the current values
        ready.set()
        for response in call:
            responses.append({path: point.value.float for path, point in response.entries.items()})
            if stop.is_set():
                call.cancel()
                return


def test_a_subscriber_that_asks_gets_changes_gathered_and_none_lost() -> None:
    """kuksa-client's set_current_values publishes one signal per call: three messages for a
    plain subscriber, one for a subscriber that asked for 200 ms gathered, and a signal that
    changes again within those 200 ms starts a new message rather than losing its first value."""
    from kuksa_client.grpc import Datapoint, VSSClient

    from sdv_studio.broker.kuksa_v2 import GATHER_HEADER

    with broker_process("--vss", str(VSS_40)) as info, VSSClient("127.0.0.1", info["port"]) as client:
        runs = {}
        for name, metadata in (("plain", ()), ("gathered", ((GATHER_HEADER, "200"),))):
            responses: list[dict[str, float]] = []
            ready, stop = threading.Event(), threading.Event()
            reader = threading.Thread(target=_subscribe, args=(info["port"], ACCELERATIONS, metadata, responses,
                                                               ready, stop))
            reader.start()
            assert ready.wait(10)
            client.set_current_values({path: Datapoint(1.0) for path in ACCELERATIONS})
            client.set_current_values({ACCELERATIONS[0]: Datapoint(2.0)})
            time.sleep(0.5)
            stop.set()
            client.set_current_values({ACCELERATIONS[1]: Datapoint(3.0)})  # wakes the reader to stop
            reader.join(10)
            runs[name] = responses[:-1]
        assert runs["plain"] == [{ACCELERATIONS[0]: 1.0}, {ACCELERATIONS[1]: 1.0}, {ACCELERATIONS[2]: 1.0},
                                 {ACCELERATIONS[0]: 2.0}]
        assert runs["gathered"] == [dict.fromkeys(ACCELERATIONS, 1.0), {ACCELERATIONS[0]: 2.0}]


def test_gathering_keeps_every_value_in_order() -> None:
    from sdv_studio.broker.store import Datapoint, without_repeats

    a, b = (1, CURRENT), (2, CURRENT)
    values = [{a: 1}, {b: 2}, {a: 3}, {b: 4}, {a: 5, b: 6}]
    points = [{key: Datapoint(("float", v), 0.0) for key, v in n.items()} for n in values]
    assert [{k: p.value[1] for k, p in n.items()} for n in without_repeats(points)] == [
        {a: 1, b: 2}, {a: 3, b: 4}, {a: 5, b: 6}]
    assert points[0] == {a: Datapoint(("float", 1), 0.0)}  # the notifications given are left as they were
