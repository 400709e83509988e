"""``receive``: files whose bytes follow the request on stdin, written into the uploads folder.

In a session the engine sends a package this way, right behind the request line: no second SSH
channel, and none of SFTP's round trips per file. The request names each file and its size; the
bytes come in that order, and are all read even when the request is refused, so the session's next
request is where it should be.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys

from .errors import AgentError, BadRequest
from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, BinaryIO, Dict, List, Optional, Tuple

_CHUNK = 1 << 20
STALL = 60.0  # seconds without a byte before a transfer counts as cut, unless the request says


def _wanted(layout: Layout, args: Dict[str, Any]) -> Tuple[List[Tuple[str, int]], str]:
    """(path, size) per file, and why they are refused ("" when they are not)."""
    files, why = [], ""
    uploads = os.path.realpath(layout.uploads)
    for entry in args.get("files") or []:
        path, size = (*entry, None, None)[:2] if isinstance(entry, list) else (None, None)
        if not isinstance(path, str) or not isinstance(size, int) or size < 0:
            raise BadRequest("receive: files must be [path, size] pairs")  # sizes unknown: cannot resync
        if not os.path.realpath(path).startswith(uploads + os.sep) and not why:
            why = "receive: %s is outside %s" % (path, uploads)
        files.append((path, size))
    return files, why


class _Stalled(Exception):
    """No byte arrived for the stall time: the workstation or its link is gone."""


def _on_alarm(_signum: int, _frame: Any) -> None:
    raise _Stalled()


def _copy(source: BinaryIO, size: int, target: Optional[BinaryIO], stall: float) -> Tuple[int, str]:
    """Up to ``size`` bytes from ``source`` into ``target`` (None: dropped): the count read, and why
    writing them failed ("" when it did not; what could not be written is still read)."""
    left, error = size, ""
    while left:
        signal.setitimer(signal.ITIMER_REAL, stall)
        try:
            # read1: what has arrived (at most one read), so a slow link is no stall. stdin's buffer
            # is a BufferedReader, which typeshed calls a BinaryIO.
            chunk = source.read1(min(left, _CHUNK))  # type: ignore[attr-defined]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if not chunk:
            break
        if target is not None and not error:
            try:
                target.write(chunk)
            except OSError as exc:  # e.g. the disk is full
                error = exc.strerror or str(exc)
        left -= len(chunk)
    return size - left, error


def receive(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    """Each file is written beside its path as ``.part`` and renamed once whole, so a transfer cut
    short never leaves a file that looks complete (the broker's wheels are kept between deployments).
    A stalled or short transfer ends the session: the bytes still on their way cannot be told apart
    from the next request."""
    files, refused = _wanted(layout, args)
    stall = float(args.get("stall") or STALL)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        return _receive(layout, files, refused, stall)
    except _Stalled:
        _discard_packages(layout, files)
        raise AgentError("the transfer stopped: no bytes for %gs" % stall, {"sessionEnds": True}) from None
    except AgentError as exc:
        if exc.details.get("sessionEnds"):
            _discard_packages(layout, files)
        raise
    finally:
        signal.signal(signal.SIGALRM, previous)


def _discard_packages(layout: Layout, files: List[Tuple[str, int]]) -> None:
    """A package upload cut short is no use: its folder goes (the next deployment sends it again)."""
    uploads = os.path.realpath(layout.uploads)
    for path, _size in files:
        top = os.path.relpath(os.path.realpath(path), uploads).split(os.sep)[0]
        if top.startswith("pkg_"):
            shutil.rmtree(os.path.join(uploads, top), ignore_errors=True)


def _receive(layout: Layout, files: List[Tuple[str, int]], refused: str, stall: float) -> Dict[str, Any]:
    source = sys.stdin.buffer
    if refused:
        for _path, size in files:
            _copy(source, size, None, stall)
        raise BadRequest(refused)
    layout.ensure()
    total, failed = 0, ""
    for path, size in files:
        got, error = _receive_one(source, path, size, not failed, stall)
        if got != size:
            raise AgentError("the transfer stopped: %s got %d of %d bytes" % (path, got, size), {"sessionEnds": True})
        if error and not failed:
            failed = "cannot write %s: %s" % (path, error)
        total += got
    if failed:  # every byte was read: the session goes on
        raise AgentError(failed)
    return {"received": len(files), "bytes": total}


def _receive_one(source: BinaryIO, path: str, size: int, write: bool, stall: float) -> Tuple[int, str]:
    """One file, written as ``path.part`` and renamed once whole (unless not ``write``: only read);
    the bytes read and why writing failed ("" when it did not)."""
    part = path + ".part"
    target, error = None, ""
    if write:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            target = open(part, "wb")  # noqa: SIM115 - closed by _close, which reports a failed flush
        except OSError as exc:
            error = exc.strerror or str(exc)
    try:
        got, write_error = _copy(source, size, target, stall)
    except BaseException:
        _close(target)
        _discard(part)
        raise
    error = error or write_error or _close(target)
    if got == size and write and not error:
        os.replace(part, path)
    else:
        _discard(part)
    return got, error


def _close(target: Optional[BinaryIO]) -> str:
    """Close ``target``, flushing it: why that failed ("" when it did not, or there is none)."""
    if target is None:
        return ""
    try:
        target.close()
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def _discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
