"""Writing files to a device: through the agent's session (its ``receive`` command).

The bytes follow the request on the session's channel, so a transfer costs no second channel and
no round trip per file, and the agent writes each file as its bytes arrive.
"""

from __future__ import annotations

from collections.abc import Sequence

from sdv_studio.core.deploy.agent_link.client import AgentClient, TransferStalled

__all__ = ["TransferStalled", "upload_files"]


async def upload_files(agent: AgentClient, files: Sequence[tuple[bytes, str]], *, stall: float = 20.0) -> int:
    """Write each (content, absolute path under the agent's uploads folder), creating folders;
    returns the bytes sent. TransferStalled when nothing goes out for ``stall`` seconds."""
    if not files:
        return 0
    listing = [[path, len(data)] for data, path in files]
    total = sum(len(data) for data, _ in files)
    # The answer comes once the last byte is written: allow the whole transfer at a slow link's pace.
    await agent.call("receive", {"files": listing, "stall": stall}, timeout=stall + total / 100_000,
                     payload=[data for data, _ in files], stall=stall)
    return total
