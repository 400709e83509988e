"""Sending a package: nothing when the device holds it, else only the files it lacks.

The agent rebuilds the release from the upload plus files it already holds with the same
hash, and verifies every hash (docs/agent-protocol.md, "Sending only what changed").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sdv_studio.core.deploy.agent_link.client import AgentClient
from sdv_studio.core.deploy.agent_link.uploads import upload_files
from sdv_studio.core.deploy.package_file import PackageFile


@dataclass(frozen=True)
class Transfer:
    already_installed: bool
    upload_dir: str | None = None
    files_sent: int = 0
    files_total: int = 0
    bytes_sent: int = 0


def prepare_args(package: PackageFile) -> dict[str, str]:
    """The agent's ``prepare`` arguments for this package (see docs/agent-protocol.md)."""
    return {"name": package.name, "packageId": package.package_id}


async def send_package(agent: AgentClient, package: PackageFile, prepared: dict[str, Any],
                       stall: float = 20.0, extra: Sequence[tuple[bytes, str]] = ()) -> Transfer:
    """``prepared`` is the agent's ``prepare`` answer: what the device holds, an empty upload folder,
    its Python and arch (it is sent only the wheels for those).
    ``extra`` files (data, remote path) go in the same session, even when the package needs none."""
    if prepared.get("installed"):
        if extra:
            await upload_files(agent, extra, stall=stall)
        return Transfer(already_installed=True, files_total=len(package.sums))
    held = set(prepared.get("hashes") or [])
    folder = str(prepared["upload"])
    props = prepared.get("properties") or {}
    needed = package.needed_files(str(props.get("python", "")), str(props.get("arch", "")))
    wanted = [name for name in needed if package.sums[name] not in held]
    files = [(package.entries["SHA256SUMS"], f"{folder}/SHA256SUMS")]
    files += [(package.entries[name], f"{folder}/{name}") for name in wanted]
    sent = await upload_files(agent, [*files, *extra], stall=stall) - sum(len(data) for data, _ in extra)
    return Transfer(False, folder, len(wanted), len(needed), sent)
