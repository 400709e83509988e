"""Warm build time and size of the default mixed-fleet package (Python 3.8-3.13 on x86_64 and
aarch64) against a single-Python one, and the bytes each sends to one device.

Run: ``.venv/bin/python bench/package.py`` (a first, untimed build of each warms the caches).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.packaging import BuildOptions, BuildResult, PackageStore, build_package
from sdv_studio.models.package import PYTHONS

APPS = Path(__file__).resolve().parent.parent / "tests" / "data" / "apps"
TARGET_SECONDS = 1.5  # a warm rebuild of the mixed-fleet package of a kuksa-client app
TARGET_RATIO = 1.1  # bytes sent to one device, mixed-fleet package / single-Python package
DEVICE = ("3.11", "x86_64")
SINGLE = ["3.11"]


def timed_builds(app: Path, pythons: Sequence[str], tmp: Path, runs: int) -> tuple[list[float], BuildResult]:
    store = PackageStore(tmp / "store")
    result = build_package(app, BuildOptions(python_versions=pythons), store=store)  # warms the caches
    times = []
    for run in range(runs):
        started = time.perf_counter()
        result = build_package(app, BuildOptions(python_versions=pythons, output_dir=tmp / f"out{run}"),
                               store=store)
        times.append(time.perf_counter() - started)
    return times, result


def device_bytes(result: BuildResult) -> int:
    """What a fresh device (DEVICE) is sent: SHA256SUMS and the entries it uses."""
    package = PackageFile(result.path)
    names = ["SHA256SUMS", *package.needed_files(*DEVICE)]
    return sum(len(package.entries[name]) for name in names)


def main(runs: int = 5) -> int:
    ok = True
    print(f"warm builds, median of {runs}; bytes to a fresh Python {DEVICE[0]} {DEVICE[1]} device")
    for app, judged in (("kuksa_app.py", True), ("playground_default.py", False)):
        rows = {}
        for label, pythons in (("mixed fleet (3.8-3.13)", PYTHONS), ("single (3.11)", SINGLE)):
            with tempfile.TemporaryDirectory() as tmp:
                times, result = timed_builds(APPS / app, pythons, Path(tmp), runs)
                rows[label] = (statistics.median(times), result.stored.size, device_bytes(result))
        print(f"\n{app}")
        for label, (seconds, size, sent) in rows.items():
            print(f"  {label:24} build {seconds:6.3f} s   package {size / 1024**2:7.1f} MiB   "
                  f"to one device {sent / 1024**2:6.1f} MiB ({sent} bytes)")
        (mixed_s, _, mixed_b), (_, _, single_b) = rows.values()
        ratio = mixed_b / single_b
        line = (f"  mixed-fleet warm build {mixed_s:.3f} s (target <= {TARGET_SECONDS} s); "
                f"bytes to one device {ratio:.3f}x single (target <= {TARGET_RATIO}x)")
        print(line + ("" if judged else "  [not judged: a Velocitas app]"))
        if judged:
            ok = ok and mixed_s <= TARGET_SECONDS and ratio <= TARGET_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
