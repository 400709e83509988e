"""``receive``: files whose bytes follow the request on stdin, written into the uploads folder.

In a session the engine sends a package this way, right behind the request line: no second SSH
channel, and none of SFTP's round trips per file. The request names each file and its size; the
bytes come in that order, and are all read even when the request is refused, so the session's next
request is where it should be.
"""

from __future__ import annotations

import os
import sys

from .errors import AgentError, BadRequest
from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Any, BinaryIO, Dict, List, Optional, Tuple

_CHUNK = 1 << 20


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


def _copy(source: BinaryIO, size: int, target: Optional[BinaryIO]) -> int:
    left = size
    while left:
        chunk = source.read(min(left, _CHUNK))
        if not chunk:
            break
        if target is not None:
            target.write(chunk)
        left -= len(chunk)
    return size - left


def receive(layout: Layout, args: Dict[str, Any]) -> Dict[str, Any]:
    files, refused = _wanted(layout, args)
    source = sys.stdin.buffer
    if refused:
        for _path, size in files:
            _copy(source, size, None)
        raise BadRequest(refused)
    layout.ensure()
    total = 0
    for path, size in files:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as target:
            got = _copy(source, size, target)
        total += got
        if got != size:
            raise AgentError("the transfer stopped: %s got %d of %d bytes" % (path, got, size))
    return {"received": len(files), "bytes": total}
