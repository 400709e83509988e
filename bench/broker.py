"""Benchmark the embedded databroker with kuksa-client: round trips, notify latency, memory.

    .venv/bin/python bench/broker.py [--seconds 5] [--vss PATH]

Prints set+get round trips per second (kuksa-client's set_current_values + get_current_values,
and the same with the datatype given so the client skips its metadata lookup), subscription
notify latency p50/p99 (publish call to the subscriber's receipt) and the broker's RSS with the
catalogue loaded. Targets on a 2-core machine: >= 2000 rt/s, p99 <= 10 ms, <= 120 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from kuksa_client.grpc import DataEntry, Datapoint, DataType, EntryUpdate, Field, VSSClient
from kuksa_client.grpc.aio import VSSClient as AioVSSClient

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


def round_trips(client: VSSClient, seconds: float, typed: bool) -> float:
    count, value = 0, 0.0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        value = (value + 1) % 250
        if typed:
            update = EntryUpdate(DataEntry(SPEED, value=Datapoint(value), value_type=DataType.FLOAT), (Field.VALUE,))
            client.set([update], try_v2=True)
        else:
            client.set_current_values({SPEED: Datapoint(value)})
        assert client.get_current_values([SPEED])[SPEED].value == value
        count += 1
    return count / (time.perf_counter() - started)


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
                    entry = DataEntry(SPEED, value=Datapoint(value), value_type=DataType.FLOAT)
                    await client.set([EntryUpdate(entry, (Field.VALUE,))], try_v2=True)
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
            plain = round_trips(client, args.seconds, typed=False)
            typed = round_trips(client, args.seconds, typed=True)
        print(f"set+get round trips/s (set_current_values + get_current_values): {plain:.0f}")
        print(f"set+get round trips/s (typed set, no metadata lookup):            {typed:.0f}")
        many = concurrent_round_trips(port, args.seconds, workers=16)
        print(f"set+get round trips/s (aio client, 16 loops in flight):           {many:.0f}")
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
