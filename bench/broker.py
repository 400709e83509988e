"""Benchmark the embedded databroker with kuksa-client: round trips, notify latency, memory.

    .venv/bin/python bench/broker.py [--seconds 5] [--vss PATH]

Prints set+get round trips per second, the headline being kuksa-client's set_current_values +
get_current_values: three RPCs each, since kuksa-client 0.6 asks for the datatype (a v1 Get of
the metadata, not cached) before every v2 PublishValue, then the value comes back by v1 Get. Next
to it: the same with the datatype given in the entry's metadata (the client skips the lookup:
two RPCs), the aio client with 16 loops in flight, and v2 PublishValue + GetValue straight on the
generated stubs (the broker without kuksa-client's own cost). For the sequential runs it shows
the CPU time per round trip in the client and in the broker: the client's share bounds what any
broker can reach. Then subscription notify latency p50/p99 (publish call to the subscriber's
receipt) and the broker's RSS with the catalogue loaded.
Targets on a 2-core machine: >= 2000 rt/s, p99 <= 10 ms, <= 120 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
from kuksa_client.grpc import DataEntry, Datapoint, DataType, EntryUpdate, Field, Metadata, VSSClient
from kuksa_client.grpc.aio import VSSClient as AioVSSClient

from sdv_studio.broker.proto.kuksa.val.v2 import types_pb2 as v2_types
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2 as v2
from sdv_studio.broker.proto.kuksa.val.v2 import val_pb2_grpc as v2_grpc

REPO = Path(__file__).resolve().parents[1]
SPEED = "Vehicle.Speed"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Rate:
    """Round trips per second of a sequential loop, and CPU microseconds per round trip spent in
    this process (the client) and in the broker."""

    def __init__(self, broker_pid: int, loop: Callable[[float], int], seconds: float) -> None:
        client_cpu, broker_cpu, started = time.process_time(), cpu_seconds(broker_pid), time.perf_counter()
        count = loop(seconds)
        elapsed = time.perf_counter() - started
        self.per_second = count / elapsed
        self.client_us = (time.process_time() - client_cpu) / count * 1e6
        self.broker_us = (cpu_seconds(broker_pid) - broker_cpu) / count * 1e6

    def __str__(self) -> str:
        cpu = f"client {self.client_us:.0f} us, broker {self.broker_us:.0f} us"
        return f"{self.per_second:5.0f}   (CPU per round trip: {cpu})"


def round_trips(client: VSSClient, seconds: float, typed: bool) -> int:
    count, value = 0, 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        value = (value + 1) % 250
        if typed:  # the datatype in the metadata: kuksa-client needs no lookup
            entry = DataEntry(SPEED, value=Datapoint(value), metadata=Metadata(data_type=DataType.FLOAT))
            client.set([EntryUpdate(entry, (Field.VALUE,))], try_v2=True)
        else:
            client.set_current_values({SPEED: Datapoint(value)})
        assert client.get_current_values([SPEED])[SPEED].value == value
        count += 1
    return count


def raw_round_trips(port: int, seconds: float) -> int:
    """v2 PublishValue + GetValue on the generated stubs: the broker without kuksa-client."""
    signal = v2_types.SignalID(path=SPEED)
    get = v2.GetValueRequest(signal_id=signal)
    count, value = 0, 0.0
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = v2_grpc.VALStub(channel)
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            value = (value + 1) % 250
            point = v2_types.Datapoint(value=v2_types.Value(float=value))
            stub.PublishValue(v2.PublishValueRequest(signal_id=signal, data_point=point))
            assert stub.GetValue(get).data_point.value.float == value
            count += 1
    return count


def concurrent_round_trips(port: int, seconds: float, workers: int) -> float:
    """The aio client with several set+get loops in flight on one channel."""

    async def run() -> float:
        async with AioVSSClient("127.0.0.1", port) as client:
            count = 0

            async def loop() -> None:
                nonlocal count
                value, deadline = 0.0, time.perf_counter() + seconds
                while time.perf_counter() < deadline:
                    value = (value + 1) % 250
                    await client.set_current_values({SPEED: Datapoint(value)})
                    await client.get_current_values([SPEED])
                    count += 1

            started = time.perf_counter()
            await asyncio.gather(*(loop() for _ in range(workers)))
            return count / (time.perf_counter() - started)

    return asyncio.run(run())


def notify_latency(port: int, samples: int) -> list[float]:
    received: dict[float, float] = {}
    ready = threading.Event()

    def subscriber() -> None:
        with VSSClient("127.0.0.1", port) as client:
            for updates in client.subscribe_current_values([SPEED]):
                now = time.perf_counter()
                if not ready.is_set():
                    ready.set()  # the initial state
                    continue
                received[updates[SPEED].value] = now
                if len(received) >= samples:
                    return

    thread = threading.Thread(target=subscriber, daemon=True)
    thread.start()
    ready.wait(10)
    sent: dict[float, float] = {}
    with VSSClient("127.0.0.1", port) as client:
        for i in range(samples):
            value = 1000.0 + i
            update = EntryUpdate(DataEntry(SPEED, value=Datapoint(value), value_type=DataType.FLOAT), (Field.VALUE,))
            sent[value] = time.perf_counter()
            client.set([update], try_v2=True)
            time.sleep(0.005)  # notifications one at a time: latency, not throughput
    thread.join(10)
    return sorted((received[v] - sent[v]) * 1000 for v in sent if v in received)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--vss", default=str(REPO.parent / "shared" / "vss" / "vss_release_4.0.json"))
    args = parser.parse_args()
    port = free_port()
    broker = subprocess.Popen(
        [sys.executable, "-m", "sdv_studio", "broker", "--port", str(port), "--no-mqtt", "--vss", args.vss],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        print(broker.stdout.readline().strip())
        print(f"broker RSS with catalogue loaded: {rss_mb(broker.pid):.1f} MB")
        with VSSClient("127.0.0.1", port) as client:
            round_trips(client, 0.5, typed=True)  # warm-up
            plain = Rate(broker.pid, lambda seconds: round_trips(client, seconds, typed=False), args.seconds)
            typed = Rate(broker.pid, lambda seconds: round_trips(client, seconds, typed=True), args.seconds)
        print(f"set+get round trips/s (set_current_values + get_current_values): {plain}")
        print(f"set+get round trips/s (datatype given, no metadata lookup):       {typed}")
        many = concurrent_round_trips(port, args.seconds, workers=16)
        print(f"set+get round trips/s (aio client, 16 loops in flight):           {many:5.0f}")
        raw = Rate(broker.pid, lambda seconds: raw_round_trips(port, seconds), args.seconds)
        print(f"set+get round trips/s (v2 PublishValue + GetValue, bare stubs):   {raw}")
        latencies = notify_latency(port, args.samples)
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"subscription notify latency over {len(latencies)} updates: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        print(f"broker RSS after the run: {rss_mb(broker.pid):.1f} MB")
    finally:
        broker.terminate()
        broker.wait(10)


if __name__ == "__main__":
    main()
