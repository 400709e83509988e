"""REST API latency: 100 concurrent GET /api/deployments/{id} against `sdv-studio serve`.

Target: p99 <= 50 ms. The server runs as its own process (as users run it) on 127.0.0.1 with a
temporary SDV_STUDIO_HOME holding one seeded deployment record of six devices; the client keeps
100 connections open and sends each round of 100 requests at once.
Run: .venv/bin/python bench/api.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.models.deployment import Deployment, DeviceDeployment, utc_now

TOKEN = "bench-token-0123456789abcdef"
CONCURRENT = 100
TARGET_P99_MS = 50.0


def seed(home: Path) -> str:
    record = Deployment(
        deployment_id="deploy_0b0e0c0d0a0f0e0d", package_id="pkg_0123456789abcdef", app_name="light",
        app_version="1.0.0", status="completed", end_time=utc_now(),
        devices=[DeviceDeployment(device_id=f"198.18.0.{11 + i}", status="success", progress=100, stage="done",
                                  message="Application running successfully", start_time=utc_now(),
                                  end_time=utc_now(), runtime="native") for i in range(6)],
    )
    DeploymentRecords(home / "data" / "deployments").save(record)
    return record.deployment_id


def start_server(home: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "SDV_STUDIO_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-m", "sdv_studio", "serve", "--port", "0", "--token", TOKEN],
                               env=env, stdout=subprocess.PIPE, text=True)
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
    if not selector.select(timeout=120):
        process.kill()
        raise SystemExit("sdv-studio serve did not start")
    line = process.stdout.readline()  # type: ignore[union-attr]
    url = next(word for word in line.split() if word.startswith("http://"))
    return process, url


async def measure(url: str, path: str, rounds: int) -> list[float]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as client:

        async def one() -> float:
            start = time.perf_counter()
            response = await client.get(path)
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code} {response.text}")
            return elapsed * 1000

        await asyncio.gather(*(one() for _ in range(CONCURRENT)))  # warm-up: opens the connections
        latencies: list[float] = []
        for _ in range(rounds):
            latencies += await asyncio.gather(*(one() for _ in range(CONCURRENT)))
        return latencies


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far: the server's cost, whatever else loads the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds of 100 concurrent requests (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sdv-bench-api-") as tmp:
        home = Path(tmp)
        deployment_id = seed(home)
        process, url = start_server(home)
        try:
            cpu_before = cpu_seconds(process.pid)
            latencies = asyncio.run(measure(url, f"/api/deployments/{deployment_id}", args.rounds))
            server_cpu = cpu_seconds(process.pid) - cpu_before
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    p99 = percentile(latencies, 99)
    print(f"GET /api/deployments/{{id}}: {len(latencies)} requests, {CONCURRENT} at a time")
    print(f"  p50 {percentile(latencies, 50):.1f} ms  p90 {percentile(latencies, 90):.1f} ms  "
          f"p99 {p99:.1f} ms  max {max(latencies):.1f} ms  mean {statistics.fmean(latencies):.1f} ms")
    print(f"  server CPU {server_cpu / (len(latencies) + CONCURRENT) * 1000:.2f} ms per request; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    verdict = "meets" if p99 <= TARGET_P99_MS else "misses"
    print(f"  p99 {verdict} the target of {TARGET_P99_MS:.0f} ms")
    return 0 if p99 <= TARGET_P99_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
