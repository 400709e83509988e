"""Build time of the playground's default app with a warm wheel cache, and the package's size.

Run: ``.venv/bin/python bench/package.py`` (the first, untimed build warms the caches).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sdv_studio.core.packaging import BuildOptions, PackageStore, build_package

APP = Path(__file__).resolve().parent.parent / "tests" / "data" / "apps" / "playground_default.py"
TARGET_SECONDS = 1.5


def main(runs: int = 5) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        store = PackageStore(Path(tmp) / "store")
        build_package(APP, BuildOptions(), store=store)  # warm: wheels, model generator, vehicle model
        times = []
        for run in range(runs):
            started = time.perf_counter()
            result = build_package(APP, BuildOptions(output_dir=Path(tmp) / f"out{run}"), store=store)
            times.append(time.perf_counter() - started)
        size = result.stored.size
    median = statistics.median(times)
    print(f"playground default app, warm wheel cache, {runs} builds")
    print(f"build time: median {median:.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
          f"(target <= {TARGET_SECONDS} s)")
    print(f"package size: {size} bytes ({size / 1024**2:.1f} MiB), platforms x86_64 + aarch64")
    return 0 if median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
