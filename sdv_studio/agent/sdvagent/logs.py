"""Per-instance log files: size-based rotation, tail and follow.

Apps write straight into their log file (O_APPEND), so they never depend on the supervisor
being alive to drain a pipe; rotation is therefore copy-then-truncate.
"""

from __future__ import annotations

import os
import shutil
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Callable, List

DEFAULT_MAX_BYTES = 5 << 20
DEFAULT_BACKUPS = 3


def rotate_if_needed(path: str, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS) -> bool:
    try:
        if os.path.getsize(path) < max_bytes:
            return False
    except OSError:
        return False
    for n in range(backups - 1, 0, -1):
        older = "%s.%d" % (path, n)
        if os.path.exists(older):
            os.replace(older, "%s.%d" % (path, n + 1))
    if backups > 0:
        shutil.copyfile(path, path + ".1")
    # Writers hold O_APPEND descriptors: after the truncate they carry on at the new end.
    with open(path, "r+b") as f:
        f.truncate(0)
    return True


def tail(path: str, lines: int) -> List[str]:
    """The last ``lines`` lines, reading backwards so big logs cost little."""
    if lines <= 0:
        return []
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            size = min(end, 8192)
            while True:
                f.seek(end - size)
                data = f.read(size)
                if data.count(b"\n") > lines or size == end:
                    break
                size = min(end, size * 4)
    except OSError:
        return []
    text = data.decode("utf-8", "replace").splitlines()
    return text[-lines:]


def follow(path: str, emit: Callable[[str], None], stop: Callable[[], bool], poll: float = 0.2) -> None:
    """Calls ``emit`` for each new line until ``stop()``; survives truncation and replacement."""
    handle = None
    inode = None
    from_start = False
    pending = b""
    while not stop():
        if handle is None:
            try:
                handle = open(path, "rb")  # noqa: SIM115 - kept open across polls, closed below
            except OSError:
                from_start = True
                time.sleep(poll)
                continue
            inode = os.fstat(handle.fileno()).st_ino
            if not from_start:
                handle.seek(0, os.SEEK_END)
        chunk = handle.read()
        if chunk:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                emit(line.decode("utf-8", "replace"))
            continue
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or st.st_ino != inode:
            handle.close()
            handle, from_start = None, True
        elif st.st_size < handle.tell():
            handle.seek(0)
        time.sleep(poll)
    if handle is not None:
        handle.close()
