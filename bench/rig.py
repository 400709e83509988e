"""Rig setup and teardown time: 6 devices, 2 with a Docker-API engine (target <= 30 s, image cached).

Run as root: .venv/bin/python bench/rig.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.rig.image import ensure_base_image
from tests.rig.rig import Rig, bench_specs

SPECS = bench_specs()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    ensure_base_image()
    image = time.perf_counter() - t0
    setups, teardowns = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        rig = Rig.build(SPECS)
        t1 = time.perf_counter()
        rig.teardown()
        t2 = time.perf_counter()
        setups.append(t1 - t0)
        teardowns.append(t2 - t1)
    total = [s + t for s, t in zip(setups, teardowns, strict=True)]
    print(f"base image check/build: {image:.2f} s")
    print(f"rig of 6 devices (2 engines), {args.runs} runs:")
    print(f"  setup    median {statistics.median(setups):.2f} s  max {max(setups):.2f} s")
    print(f"  teardown median {statistics.median(teardowns):.2f} s  max {max(teardowns):.2f} s")
    print(f"  total    median {statistics.median(total):.2f} s  (target <= 30 s)")


if __name__ == "__main__":
    main()
