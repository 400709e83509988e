"""The frozen Linux bundle: its size, and launch-to-window time of the frozen binary.

Run after ``packaging/build-linux.sh``: ``.venv/bin/python bench/frozen.py [--runs 5]``.
Each run starts ``sdv-studio --self-test`` offscreen and times spawn to the ``window shown`` line
(the main window created, shown and painted); the process must then walk every page and exit 0.
The first run also pays for a cold page cache, so it is reported apart from the median. The cores
are shared with other work here, so the CPU time of each whole self-test run is reported too.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 3.0


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def launch_to_window(binary: Path) -> tuple[float, float]:
    """(seconds from spawn to the window shown, CPU seconds of the whole self-test run)."""
    cpu_before = _children_cpu()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SDV_STUDIO_HOME": home}
        started = time.perf_counter()
        # One pipe for both streams: reading only stdout could block on a full stderr pipe.
        process = subprocess.Popen([str(binary), "--self-test"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=env)
        assert process.stdout is not None
        shown = None
        output = []
        for line in process.stdout:
            output.append(line)
            if shown is None and line.startswith("window shown"):
                shown = time.perf_counter() - started
        process.wait(timeout=120)
    if process.returncode != 0 or shown is None:
        raise RuntimeError(f"self-test failed (exit {process.returncode}): {''.join(output)[-500:]}")
    return shown, _children_cpu() - cpu_before


def version_time(binary: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(binary), "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "sdv-studio")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    binary = args.bundle / "sdv-studio"
    if not binary.is_file():
        print(f"{binary} not found: run packaging/build-linux.sh first", file=sys.stderr)
        return 2
    size = folder_size(args.bundle)
    tarballs = sorted((args.bundle.parent).glob("sdv-studio-*-linux-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    print(f"bundle folder: {size / 1024**2:.1f} MiB ({size} bytes, {args.bundle})")
    if tarballs:
        print(f"tarball: {tarballs[-1].stat().st_size / 1024**2:.1f} MiB ({tarballs[-1].name})")
    cold, _cpu = launch_to_window(binary)
    runs = [launch_to_window(binary) for _ in range(args.runs)]
    warm = [shown for shown, _cpu in runs]
    median = statistics.median(warm)
    print(f"launch to window, offscreen: first run {cold:.2f} s; then median {median:.2f} s, "
          f"min {min(warm):.2f} s, max {max(warm):.2f} s over {args.runs} runs (target <= {TARGET_SECONDS} s)")
    print(f"CPU of a whole self-test run (start, 6 pages, exit): median "
          f"{statistics.median(cpu for _shown, cpu in runs):.2f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"--version: {statistics.median(version_time(binary) for _ in range(3)):.2f} s (median of 3)")
    return 0 if median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
