"""Run on a device that lacks this agent version, as ``python3 -I -c <this source> AGENT_PATH``
(isolated: nothing in the current folder or the environment can shadow the standard library).

The engine has already written its first request line on stdin. This keeps that line, asks for the
agent (``{"bundle": "needed"}``), reads ``<size>\\n`` and the bundle's tar, installs it under the home
as a whole (unpacked beside the old one, then renamed into place: a device never runs half an
agent), then serves the session in this same process, starting with the kept request.
Stdlib only, Python 3.8+.
"""

import io
import json
import os
import shutil
import sys
import tarfile

INSTALL_FAILED = 70


def install(here: str, bundle: bytes) -> None:
    new, old = here + ".new", here + ".old"
    for stale in (new, old):
        shutil.rmtree(stale, ignore_errors=True)
    os.makedirs(new)
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        if hasattr(tarfile, "data_filter"):  # 3.12, and 3.8.17+ as a backport
            tar.extractall(new, filter="data")
        else:
            tar.extractall(new)
    if os.path.lexists(here):
        os.rename(here, old)
    os.rename(new, here)
    shutil.rmtree(old, ignore_errors=True)


def main() -> int:
    here = os.path.join(os.path.expanduser("~"), sys.argv[1])
    first = sys.stdin.buffer.readline()
    sys.stdout.write(json.dumps({"bundle": "needed"}) + "\n")
    sys.stdout.flush()
    size = int(sys.stdin.buffer.readline() or b"0")
    bundle = sys.stdin.buffer.read(size)
    try:
        if len(bundle) != size or not size:
            raise OSError("the agent's bundle arrived incomplete (%d of %d bytes)" % (len(bundle), size))
        install(here, bundle)
    except (OSError, tarfile.TarError) as exc:
        failure = {"ok": False, "agentInstalled": False, "error": "could not install the agent in %s: %s" % (here, exc)}
        sys.stdout.write(json.dumps(failure) + "\n")
        return INSTALL_FAILED
    sys.path.insert(0, here)
    from sdvagent.cli import session

    return session(first)


if __name__ == "__main__":
    sys.exit(main())
