"""Root filesystems of foreign devices: another Debian (so another Python), built once and cached.

A foreign device runs its sshd chrooted into an overlay on one of these roots, so a login
there finds that Debian's own Python (bullseye: 3.9, trixie: 3.13) and nothing of this
machine's. Each root is built by mmdebstrap from this machine's apt sources with the suite
swapped in, under a lock so concurrent test runs share one build.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
from pathlib import Path

from tests.rig.image import CACHE, _sources

ROOTS = CACHE / "roots"
PACKAGES = "openssh-server,python3,python3-venv"
# Bump the leading number when the recipe changes so cached roots are rebuilt.
RECIPE = f"2:--variant=apt:{PACKAGES}"
BUILD_TIMEOUT = 1200.0
SUITES = {"bullseye": "3.9", "trixie": "3.13"}
# apt's words for a mirror it could not reach (DNS, refused or timed-out connections).
_UNREACHABLE = re.compile(r"Could not resolve|Could not connect|Failed to fetch|Temporary failure resolving|timed out")


def recipe(suite: str) -> str:
    return f"{RECIPE}:{suite}"


def suite_sources(suite: str) -> bytes:
    """This machine's apt sources (bookworm) with ``suite`` in its place, security and updates included."""
    return re.sub(rb"\bbookworm\b", suite.encode(), _sources())


def ensure_root(suite: str, timeout: float = BUILD_TIMEOUT) -> Path:
    """The cached root filesystem of ``suite``, built now unless the cache holds the current recipe."""
    if suite not in SUITES:
        raise ValueError(f"no foreign device root for suite {suite!r}; known: {', '.join(SUITES)}")
    ROOTS.mkdir(parents=True, exist_ok=True)
    root = ROOTS / suite
    stamp = ROOTS / f"{suite}.recipe"
    with open(ROOTS / f"{suite}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits for the first one's build
        if stamp.exists() and stamp.read_text() == recipe(suite) and (root / "usr/sbin/sshd").exists():
            return root
        stamp.unlink(missing_ok=True)
        partial = ROOTS / f"{suite}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        build_root(suite, partial, suite_sources(suite), timeout)
        shutil.rmtree(root, ignore_errors=True)
        partial.rename(root)
        stamp.write_text(recipe(suite))
        return root


def build_root(suite: str, target: Path, sources: bytes, timeout: float = BUILD_TIMEOUT) -> None:
    """mmdebstrap ``suite`` into ``target`` from the apt ``sources`` given (deb822 or one-line)."""
    # The mirror "-": mmdebstrap takes the sources from its standard input.
    argv = ["mmdebstrap", "--variant=apt", "--mode=root", f"--include={PACKAGES}", suite, str(target), "-"]
    try:
        build = subprocess.run(argv, input=sources, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise RuntimeError(f"mmdebstrap {suite} did not finish in {timeout:.0f}s") from exc
    if build.returncode == 0:
        return
    shutil.rmtree(target, ignore_errors=True)
    tail = build.stderr.decode(errors="replace")[-2000:]
    if _UNREACHABLE.search(tail):
        raise RuntimeError(f"the Debian mirror is unreachable, cannot build the {suite} device root: {tail}")
    raise RuntimeError(f"mmdebstrap {suite} failed: {tail}")


if __name__ == "__main__":
    import sys
    import time

    for name in sys.argv[1:] or list(SUITES):
        started = time.monotonic()
        print(name, ensure_root(name), f"{time.monotonic() - started:.0f}s", flush=True)
