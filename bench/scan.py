"""Discovery speed on a rig of 6 devices: our /24 sweep against nmap's, and sweep + probe.

Targets: our sweep <= 1.0x nmap -sT -p22 -T4 -n over the same /24; sweep + probe of 6 devices <= 3 s.
Everything runs inside the rig's workstation namespace (nmap through `ip netns exec`), so no packet
leaves the private bridge. Run as root: .venv/bin/python bench/scan.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdv_studio.core.discovery import ScanFinished, Scanner, ScanOptions, Sweep, parse_cidrs
from sdv_studio.core.inventory import Inventory
from sdv_studio.core.ssh import HostKeyTrust, KnownHosts
from tests.rig.rig import Rig, bench_specs

SPECS = bench_specs()


def time_nmap(rig: Rig) -> tuple[float, int]:
    argv = rig.workstation_argv("nmap", "-sT", "-p22", "-T4", "-n", rig.sweep_cidr)
    start = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout
    return time.perf_counter() - start, out.count("22/tcp open")


async def our_sweep(cidr: str) -> int:
    return len([hit async for hit in Sweep(parse_cidrs([cidr])).hits()])


async def sweep_and_probe(rig: Rig, home: Path) -> tuple[float, int]:
    """Seconds for the whole scan with mDNS off (sweep, then every probe), and devices online."""
    options = ScanOptions(
        cidrs=[rig.sweep_cidr], use_mdns=False, user=rig.user, key_file=rig.key_path,
        trust=HostKeyTrust(KnownHosts(home / "known_hosts"), accept_new=True),
    )
    start = time.perf_counter()
    async for event in Scanner(options, Inventory(home / "devices.json")).events():
        if isinstance(event, ScanFinished):
            online = sum(d.status == "online" for d in event.devices)
            return time.perf_counter() - start, online
    raise RuntimeError("scan ended without ScanFinished")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the rig needs network namespaces")
    rig = Rig.build(SPECS)
    try:
        nmap_times, sweep_times, scan_times = [], [], []
        for _ in range(args.runs):
            seconds, found = time_nmap(rig)
            assert found == len(SPECS), f"nmap found {found} open ports"
            nmap_times.append(seconds)
            with rig.in_workstation():
                start = time.perf_counter()
                found = asyncio.run(our_sweep(rig.sweep_cidr))
                sweep_times.append(time.perf_counter() - start)
                assert found == len(SPECS), f"our sweep found {found} open ports"
                with tempfile.TemporaryDirectory() as home:  # fresh trust each run: first-contact cost
                    total, online = asyncio.run(sweep_and_probe(rig, Path(home)))
            assert online == len(SPECS), f"{online} devices online"
            scan_times.append(total)
    finally:
        rig.teardown()
    nmap, ours, scan = (statistics.median(t) for t in (nmap_times, sweep_times, scan_times))
    print(f"/24 sweep for port 22, 6 devices, median of {args.runs} runs:")
    print(f"  nmap -sT -p22 -T4 -n   {nmap:.2f} s   (runs: {', '.join(f'{t:.2f}' for t in nmap_times)})")
    print(f"  sdv-studio sweep       {ours:.2f} s   (runs: {', '.join(f'{t:.2f}' for t in sweep_times)})")
    print(f"  ratio ours/nmap        {ours / nmap:.2f}x  (target <= 1.0x)")
    print(f"  sweep + probe of 6     {scan:.2f} s   (runs: {', '.join(f'{t:.2f}' for t in scan_times)}; "
          "target <= 3 s)")


if __name__ == "__main__":
    main()
